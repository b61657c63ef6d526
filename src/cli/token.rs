//! `longrun token keygen` and `longrun token mint`: a key pair and signed
//! tokens for local development and tests (docs/security.md).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};

use super::client::duration;
use crate::auth::CLOUD_PLATFORM_SCOPE;
use crate::auth::mint::{TokenRequest, add_to_jwks, generate_key, mint};

#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub verb: TokenVerb,
}

#[derive(Subcommand, Debug)]
pub enum TokenVerb {
    /// Make a key pair: the private key as PEM, the public key added to a
    /// JWKS file (created if missing; other keys are kept, for rotation).
    Keygen(KeygenArgs),
    /// Print a signed token, for `operations --token` or an
    /// `Authorization: Bearer` header.
    Mint(MintArgs),
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// EdDSA (Ed25519), ES256 (P-256) or RS256 (RSA 2048).
    #[arg(long, default_value = "EdDSA")]
    pub alg: String,
    /// The key id (`kid`) tokens will name.
    #[arg(long, default_value = "dev-1")]
    pub kid: String,
    /// Where the private key goes (PKCS#8 PEM, mode 0600).
    #[arg(long, default_value = "longrun-key.pem")]
    pub private_key: PathBuf,
    /// The JWKS file for the server's --jwks-file.
    #[arg(long, default_value = "longrun-jwks.json")]
    pub jwks: PathBuf,
}

#[derive(Args, Debug)]
pub struct MintArgs {
    /// The private key's algorithm: EdDSA, ES256 or RS256.
    #[arg(long, default_value = "EdDSA")]
    pub alg: String,
    /// The key id (`kid`) in the token's header, as given to keygen.
    #[arg(long, default_value = "dev-1")]
    pub kid: String,
    /// The private key that keygen wrote (PKCS#8 PEM).
    #[arg(long, default_value = "longrun-key.pem")]
    pub private_key: PathBuf,
    /// The `iss` claim; the server must accept it (--jwt-issuer).
    #[arg(long, default_value = "https://longrun.local")]
    pub issuer: String,
    /// The `aud` claim; the server must accept it (--jwt-audience).
    #[arg(long, default_value = "longrun")]
    pub audience: String,
    /// The `sub` claim; policies name it `subject:SUB`.
    #[arg(long, default_value = "dev")]
    pub subject: String,
    /// The `email` claim; policies name it `user:EMAIL`
    /// (`serviceAccount:EMAIL` for *.gserviceaccount.com).
    #[arg(long)]
    pub email: Option<String>,
    /// Granted scopes, in the `scope` claim (repeatable; an empty value
    /// grants none).
    #[arg(long = "scope", default_value = CLOUD_PLATFORM_SCOPE)]
    pub scopes: Vec<String>,
    /// Groups, in the `groups` claim; policies name them `group:NAME`
    /// (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// How long the token is valid, from now.
    #[arg(long, default_value = "1h", value_parser = duration)]
    pub lifetime: Duration,
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.verb {
        TokenVerb::Keygen(args) => keygen(&args),
        TokenVerb::Mint(args) => {
            let token = mint_token(&args)? + "\n";
            super::write_stdout(token.as_bytes())
        }
    }
}

fn algorithm(name: &str) -> anyhow::Result<jsonwebtoken::Algorithm> {
    match name.parse::<jsonwebtoken::Algorithm>() {
        Ok(
            alg @ (jsonwebtoken::Algorithm::EdDSA
            | jsonwebtoken::Algorithm::ES256
            | jsonwebtoken::Algorithm::RS256),
        ) => Ok(alg),
        Ok(_) | Err(_) => bail!("--alg {name}: use EdDSA, ES256 or RS256"),
    }
}

fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    let key = generate_key(algorithm(&args.alg)?, &args.kid)?;
    let existing = match std::fs::read(&args.jwks) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(err).with_context(|| format!("reading {}", args.jwks.display())),
    };
    let jwks = add_to_jwks(existing.as_deref(), key.jwk)?;
    write_private(&args.private_key, key.private_pem.as_bytes())?;
    std::fs::write(&args.jwks, jwks).with_context(|| format!("writing {}", args.jwks.display()))?;
    super::note(format_args!(
        "private key {} (kid {}), public keys {}",
        args.private_key.display(),
        args.kid,
        args.jwks.display()
    ));
    Ok(())
}

/// A private key is readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

fn mint_token(args: &MintArgs) -> anyhow::Result<String> {
    let pem = std::fs::read(&args.private_key)
        .with_context(|| format!("reading {}", args.private_key.display()))?;
    let request = TokenRequest {
        issuer: args.issuer.clone(),
        audience: args.audience.clone(),
        subject: args.subject.clone(),
        email: args.email.clone(),
        scopes: args
            .scopes
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect(),
        groups: args.groups.clone(),
        lifetime: args.lifetime,
    };
    Ok(mint(
        &request,
        algorithm(&args.alg)?,
        Some(&args.kid),
        &pem,
    )?)
}

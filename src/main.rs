use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = longrun::cli::Cli::parse();
    match longrun::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("longrun: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! Idle connections held open, for bench/memory.sh: `connections h2|h1
//! PUBLIC COUNT NAME` opens COUNT connections, makes one GetOperation(NAME)
//! on each (gRPC over h2c, or REST over HTTP/1.1 with keep-alive), prints
//! `open`, and holds them until its stdin closes.

use std::time::Duration;

use longrun::pb::longrunning::{self as lro, operations_client::OperationsClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Result, connect};

/// The longest one HTTP/1.1 answer may take.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

pub async fn hold(protocol: &str, public: &str, count: usize, name: &str) -> Result<()> {
    let mut h2 = Vec::new();
    let mut h1 = Vec::new();
    for _ in 0..count {
        match protocol {
            "h2" => {
                let mut client = OperationsClient::new(connect(public).await?);
                client
                    .get_operation(lro::GetOperationRequest { name: name.into() })
                    .await?;
                h2.push(client);
            }
            "h1" => h1.push(rest_get(public, name).await?),
            _ => return Err("protocol is h2 or h1".into()),
        }
    }
    super::say("open\n")?;
    super::until_stdin_closes().await?;
    drop((h2, h1));
    Ok(())
}

/// One keep-alive GET; returns the connection, left open, once the whole
/// answer (its head and `content-length` bytes) is read.
async fn rest_get(public: &str, name: &str) -> Result<TcpStream> {
    let mut stream = TcpStream::connect(public).await?;
    let request = format!("GET /v1/{name} HTTP/1.1\r\nhost: {public}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut seen = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err::<(), Box<dyn std::error::Error + Send + Sync>>("closed".into());
            }
            seen.extend_from_slice(&buf[..n]);
            let Some(head_end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
            if !head.starts_with("http/1.1 200") {
                return Err(format!("answered {}", head.lines().next().unwrap_or("")).into());
            }
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or("no content-length")?;
            if seen.len() >= head_end + 4 + length {
                return Ok(());
            }
        }
    };
    tokio::time::timeout(ANSWER_LIMIT, read).await??;
    Ok(stream)
}

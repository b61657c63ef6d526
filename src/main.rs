//! The `longrun` binary: parses the command line, runs it, and turns an
//! error into its chain on stderr and exit status 1. Everything else is in the
//! library (`longrun::cli`).

use clap::Parser;

#[tokio::main]
#[expect(clippy::print_stderr, reason = "the one line a failed command says")]
async fn main() -> std::process::ExitCode {
    let cli = longrun::cli::Cli::parse();
    match longrun::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("longrun: {}", longrun::cli::error_chain(err.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}

// A server allocates and frees many small buffers per request from every
// worker thread; mimalloc does that with about a tenth fewer instructions
// per REST call than glibc's malloc (measured with callgrind), and keeps
// fragmentation low in long-running processes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

//! The `qiping` binary: parse the command line, run it, map failure to exit code 1.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = qiping::cli::Cli::parse();
    match qiping::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("错误: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

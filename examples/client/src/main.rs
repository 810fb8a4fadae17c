//! ddns-client: The reference client with network discovery. Built by the ddns-client issue.
//!
//! Not built yet: running it says so and exits with status 2.

fn main() -> std::process::ExitCode {
    eprintln!(
        "ddns-client {} is not available yet; see the project's open issues.",
        env!("CARGO_PKG_VERSION")
    );
    std::process::ExitCode::from(2)
}

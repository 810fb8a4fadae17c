//! ddns-server: The standalone ddns server (seed API over HTTP, embedded DNS). Built by the ddns-server issue.
//!
//! Not built yet: running it says so and exits with status 2.

fn main() -> std::process::ExitCode {
    eprintln!(
        "ddns-server {} is not available yet; see the project's open issues.",
        env!("CARGO_PKG_VERSION")
    );
    std::process::ExitCode::from(2)
}

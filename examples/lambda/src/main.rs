//! ddns-lambda: The AWS Lambda serving the seed API. Built by the ddns-aws issue.
//!
//! Not built yet: running it says so and exits with status 2.

fn main() -> std::process::ExitCode {
    eprintln!(
        "ddns-lambda {} is not available yet; see the project's open issues.",
        env!("CARGO_PKG_VERSION")
    );
    std::process::ExitCode::from(2)
}

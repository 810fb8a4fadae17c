//! Finding the third-party programs the tests run, and saying what to
//! install when one is missing: a skip printed loudly, or a failure when
//! DDNS_REQUIRE_INTEGRATION=1 (as CI sets it).

use std::path::{Path, PathBuf};

/// The path of `binary` in the usual system directories, when installed.
pub fn installed(binary: &str) -> Option<PathBuf> {
    [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ]
    .iter()
    .map(|d| Path::new(d).join(binary))
    .find(|p| p.exists())
}

/// Skips (returning `None`) or, under DDNS_REQUIRE_INTEGRATION=1, fails
/// with what to install.
pub fn missing<T>(what: &str, install: &str) -> Option<T> {
    if std::env::var("DDNS_REQUIRE_INTEGRATION").as_deref() == Ok("1") {
        panic!("{what} is required for this test: {install}");
    }
    println!("SKIPPED: {what} not installed ({install})");
    None
}

/// `binary` when installed; otherwise [`missing`] with `install`.
pub fn required(binary: &str, install: &str) -> Option<PathBuf> {
    installed(binary).or_else(|| missing(binary, install))
}

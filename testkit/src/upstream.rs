//! The upstream project's client, `dyndns.sh`, as `docs/PROTOCOL.md` ("The
//! upstream protocol") describes it: a bash script over `curl` and
//! `shasum`, run against a server under test.

use std::process::Command;

/// What one run of the client printed: the answer's body and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRun {
    /// The JSON body the server sent.
    pub body: String,
    /// The HTTP status the client printed after it.
    pub status: u16,
}

/// Runs the client in `mode` (`get` or `set`) against `url` for `host`
/// with `secret`, its requests forwarded for `source` (sent as
/// `X-Forwarded-For`). `None` when curl or shasum is missing (a loud skip,
/// or a failure under DDNS_REQUIRE_INTEGRATION=1).
pub fn run(mode: &str, url: &str, host: &str, secret: &str, source: &str) -> Option<ClientRun> {
    crate::tools::required("curl", "apt-get install curl")?;
    crate::tools::required("shasum", "apt-get install perl (shasum)")?;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("dyndns.sh");
    std::fs::write(&script, include_str!("dyndns.sh")).unwrap();
    let out = Command::new("bash")
        .arg(&script)
        .args(["-m", mode, "-u", url, "-h", host, "-s", secret])
        .env("DDNS_FORWARDED_FOR", source)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "dyndns.sh -m {mode} failed: {printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, status) = printed
        .trim_end()
        .rsplit_once(r#",{"status_code":""#)
        .unwrap_or_else(|| panic!("dyndns.sh printed no status: {printed}"));
    Some(ClientRun {
        body: body.to_owned(),
        status: status.trim_end_matches("\"}").parse().unwrap(),
    })
}

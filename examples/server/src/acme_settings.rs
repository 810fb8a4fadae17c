//! `ddns-server acme-settings HOST`: ready-to-paste settings for the ACME
//! clients people already run, so that a host's owner gets a certificate
//! for `HOST` and `*.HOST` with nothing but the record's secret.
//!
//! Every interface maps onto the host's own record (`docs/PROTOCOL.md` section 8):
//!
//! - RFC 2136 with TSIG at the embedded DNS: key name `HOST.`, algorithm
//!   hmac-sha256, key secret `base64(secret)`;
//! - lego `httpreq`: Basic user `HOST`, password the secret;
//! - acme-dns: user `HOST`, key the secret, subdomain `HOST`, fulldomain
//!   `_acme-challenge.HOST` (no CNAME needed).

use std::net::SocketAddr;

use ddns_core::challenge::challenge_name;
use ddns_core::{Hostname, SharedSecret};

/// What the settings are printed for.
#[derive(Debug)]
pub struct Target<'a> {
    /// The host.
    pub host: &'a Hostname,
    /// Its zone (for the clients that ask for it).
    pub zone: &'a Hostname,
    /// The record's secret.
    pub secret: &'a SharedSecret,
    /// The API's base URL, as clients reach it.
    pub api_url: &'a str,
    /// The embedded DNS, as clients reach it; `None` when no zone is
    /// served by it (the RFC 2136 settings are then left out).
    pub dns: Option<SocketAddr>,
}

/// The settings text.
pub fn render(target: &Target<'_>) -> String {
    let host = target.host.without_trailing_dot();
    let key_name = target.host.as_str();
    let zone = target.zone.without_trailing_dot();
    let secret = target.secret.expose_secret();
    let tsig = target.secret.tsig_base64();
    let api = target.api_url.trim_end_matches('/');
    let challenge = challenge_name(target.host)
        .map(|n| n.without_trailing_dot().to_owned())
        .unwrap_or_else(|_| format!("_acme-challenge.{host}"));
    let domains = format!("-d {host} -d '*.{host}'");
    let mut out = format!(
        "# ACME DNS-01 settings for {host} (and *.{host}).\n\
         # The challenge name is {challenge}; these settings hold the record's\n\
         # secret: keep them as safe as the secret itself.\n\n\
         ## lego, httpreq (the HTTP API)\n\
         HTTPREQ_ENDPOINT={api} HTTPREQ_USERNAME={host} HTTPREQ_PASSWORD='{secret}' \\\n  \
         lego --email you@example.org --dns httpreq {domains} run\n\n\
         ## acme-dns clients (lego acme-dns, acme.sh dns_acmedns, cert-manager, Caddy, Traefik, win-acme)\n\
         # account: username {host}, password the secret, subdomain {host},\n\
         # fulldomain {challenge} (no CNAME needed). lego's storage file acme-dns.json:\n\
         {{\"{host}\": {{\"username\": \"{host}\", \"password\": \"{secret}\", \"fulldomain\": \"{challenge}\", \"subdomain\": \"{host}\", \"allowfrom\": []}}}}\n\
         ACME_DNS_API_BASE={api} ACME_DNS_STORAGE_PATH=acme-dns.json \\\n  \
         lego --email you@example.org --dns acme-dns {domains} run\n\
         ACMEDNS_BASE_URL={api} ACMEDNS_UPDATE_URL={api}/update ACMEDNS_USERNAME={host} \\\n  \
         ACMEDNS_PASSWORD='{secret}' ACMEDNS_SUBDOMAIN={host} acme.sh --issue --dns dns_acmedns {domains}\n"
    );
    if let Some(dns) = target.dns {
        let (ip, port) = (dns.ip(), dns.port());
        out.push_str(&format!(
            "\n## lego, rfc2136 (the embedded DNS, TSIG key {key_name})\n\
             RFC2136_NAMESERVER={dns} RFC2136_TSIG_KEY={key_name} RFC2136_TSIG_ALGORITHM=hmac-sha256. \\\n  \
             RFC2136_TSIG_SECRET={tsig} lego --email you@example.org --dns rfc2136 {domains} run\n\n\
             ## certbot with certbot-dns-rfc2136: rfc2136.ini (chmod 600)\n\
             dns_rfc2136_server = {ip}\n\
             dns_rfc2136_port = {port}\n\
             dns_rfc2136_name = {key_name}\n\
             dns_rfc2136_secret = {tsig}\n\
             dns_rfc2136_algorithm = HMAC-SHA256\n\
             # certbot certonly --dns-rfc2136 --dns-rfc2136-credentials rfc2136.ini {domains}\n\n\
             ## acme.sh dns_nsupdate: the key file {host}.key\n\
             key \"{key_name}\" {{ algorithm hmac-sha256; secret \"{tsig}\"; }};\n\
             NSUPDATE_SERVER={ip} NSUPDATE_SERVER_PORT={port} NSUPDATE_KEY={host}.key NSUPDATE_ZONE={zone} \\\n  \
             acme.sh --issue --dns dns_nsupdate {domains}\n\n\
             ## nsupdate: the host's own address (as a dynamic DNS client), or a challenge value\n\
             nsupdate -y hmac-sha256:{key_name}:{tsig} <<EOF\n\
             server {ip} {port}\n\
             zone {zone}\n\
             update delete {key_name} A\n\
             update add {key_name} 60 A 198.51.100.7\n\
             send\n\
             EOF\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_gets_the_hosts_own_credentials() {
        let host = Hostname::parse("home.example.com").unwrap();
        let zone = Hostname::parse("example.com").unwrap();
        let secret = SharedSecret::new("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        let text = render(&Target {
            host: &host,
            zone: &zone,
            secret: &secret,
            api_url: "https://ddns.example.org/",
            dns: Some("192.0.2.53:53".parse().unwrap()),
        });
        let tsig = secret.tsig_base64();
        assert_eq!(tsig, "MGYxZTJkM2M0YjVhNjk3ODg3OTZhNWI0YzNkMmUxZjA=");
        for needle in [
            "HTTPREQ_ENDPOINT=https://ddns.example.org HTTPREQ_USERNAME=home.example.com HTTPREQ_PASSWORD='0f1e2d3c4b5a69788796a5b4c3d2e1f0'",
            r#""fulldomain": "_acme-challenge.home.example.com", "subdomain": "home.example.com""#,
            "RFC2136_TSIG_KEY=home.example.com.",
            "dns_rfc2136_name = home.example.com.",
            "dns_rfc2136_port = 53",
            &format!("dns_rfc2136_secret = {tsig}"),
            &format!("nsupdate -y hmac-sha256:home.example.com.:{tsig}"),
            "NSUPDATE_ZONE=example.com",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        let without_dns = render(&Target {
            dns: None,
            host: &host,
            zone: &zone,
            secret: &secret,
            api_url: "http://127.0.0.1:8080",
        });
        assert!(!without_dns.contains("rfc2136"));
    }
}

//! Ready-to-paste settings for a host's clients, shown by the page beside
//! a secret it has just made: `ddns-client`, curl, ddclient, inadyn, a
//! FRITZ!Box, and the ACME clients ([`crate::acme_settings`]).

use ddns_core::{Hostname, SharedSecret};

use super::ClientTargets;

/// One client's settings: an id for the page, a heading, and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientSettings {
    /// A short id (`ddclient`, `inadyn`, …).
    pub(crate) id: &'static str,
    /// What the settings are for.
    pub(crate) title: &'static str,
    /// The text to paste.
    pub(crate) text: String,
}

/// The settings of every client for `host` with `secret`.
pub(crate) fn for_host(
    host: &Hostname,
    secret: &SharedSecret,
    targets: &ClientTargets,
) -> Vec<ClientSettings> {
    let name = host.without_trailing_dot();
    let secret_text = secret.expose_secret();
    let url = targets.public_url.as_str();
    let tls = url.starts_with("https://");
    let server = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let ssl = if tls { "yes" } else { "no" };
    let mut all = vec![
        ClientSettings {
            id: "ddns-client",
            title: "ddns-client (this project's client)",
            text: format!(
                "DDNS_SECRET='{secret_text}' ddns-client --url {url}/ --hostname {name} --every 5m\n"
            ),
        },
        ClientSettings {
            id: "curl",
            title: "curl (dyndns2; the address the server sees)",
            text: format!("curl -u '{name}:{secret_text}' '{url}/nic/update?hostname={name}'\n"),
        },
        ClientSettings {
            id: "ddclient",
            title: "ddclient (/etc/ddclient.conf)",
            text: format!(
                "protocol=dyndns2\nserver={server}\nssl={ssl}\nlogin={name}\npassword='{secret_text}'\nuse=web\n{name}\n"
            ),
        },
        ClientSettings {
            id: "inadyn",
            title: "inadyn (/etc/inadyn.conf)",
            text: format!(
                "custom ddns {{\n    username    = {name}\n    password    = {secret_text}\n    ddns-server = {server}\n    ddns-path   = \"/nic/update?hostname=%h&myip=%i\"\n    ssl         = {tls}\n    hostname    = {name}\n}}\n"
            ),
        },
        ClientSettings {
            id: "fritzbox",
            title: "FRITZ!Box (Internet › Permit Access › DynDNS, provider \"User-defined\")",
            text: format!(
                "Update URL:  {url}/nic/update?hostname=<domain>&myip=<ipaddr>,<ip6addr>\nDomain name: {name}\nUser name:   {name}\nPassword:    {secret_text}\n"
            ),
        },
    ];
    // The core's rule picks the zone (the longest that holds the name).
    if let Some(zone) = targets.zones.containing(host) {
        let zone = zone.name();
        let embedded = targets.embedded.contains(zone);
        all.push(ClientSettings {
            id: "acme",
            title: "ACME certificates (lego, certbot, acme.sh, acme-dns clients)",
            text: crate::acme_settings::render(&crate::acme_settings::Target {
                host,
                zone,
                secret,
                api_url: url,
                dns: targets.dns.filter(|_| embedded),
            }),
        });
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_gets_the_name_the_secret_and_the_server() {
        let host = Hostname::parse("home.example.com").unwrap();
        let targets = ClientTargets {
            public_url: "https://ddns.example.net".into(),
            dns: None,
            zones: ddns_core::Zones::single(ddns_core::Zone::new(
                Hostname::parse("example.com").unwrap(),
            )),
            embedded: Vec::new(),
        };
        let all = for_host(&host, &SharedSecret::new("s3cret"), &targets);
        let ids: Vec<&str> = all.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "ddns-client",
                "curl",
                "ddclient",
                "inadyn",
                "fritzbox",
                "acme"
            ]
        );
        for settings in &all {
            assert!(
                settings.text.contains("home.example.com"),
                "{}",
                settings.id
            );
            assert!(settings.text.contains("s3cret"), "{}", settings.id);
        }
        let ddclient = &all[2].text;
        assert!(
            ddclient.contains("server=ddns.example.net\nssl=yes\n"),
            "{ddclient}"
        );
    }
}

//! The CloudFormation template, read with cfn-lint's own parser (which
//! knows the short-form intrinsic tags): cfn-lint finds nothing; the
//! function's role grants exactly what the function uses; dyndns2 and POST
//! need no API key while the seed API's GET keeps it; the API is dual-stack
//! and may have a custom name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn template_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("template.yaml")
}

/// The template as JSON, or `None` (a loud skip, or a failure under
/// DDNS_REQUIRE_INTEGRATION=1) without cfn-lint.
fn template() -> Option<Value> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys\nfrom cfnlint.decode import decode\nt, errors = decode(sys.argv[1])\nassert not errors, errors\nprint(json.dumps(t))",
        ])
        .arg(template_path())
        .output();
    match out {
        Ok(out) if out.status.success() => Some(serde_json::from_slice(&out.stdout).unwrap()),
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named") => {
            ddns_testkit::tools::missing("cfn-lint", "pip install cfn-lint")
        }
        Ok(out) => panic!(
            "the template does not parse: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => ddns_testkit::tools::missing("python3", "apt-get install python3"),
    }
}

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    template["Resources"]
        .get(name)
        .unwrap_or_else(|| panic!("no resource {name}"))
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn cfn_lint_finds_nothing() {
    let Some(_) = template() else {
        return;
    };
    let out = Command::new("cfn-lint")
        .arg(template_path())
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_role_grants_only_what_the_function_uses() {
    let Some(template) = template() else {
        return;
    };
    let role = &resource(&template, "FunctionRole")["Properties"];
    assert_eq!(
        strings(&role["ManagedPolicyArns"]),
        ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    );
    let statements: Vec<&Value> = role["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .collect();
    let mut actions: Vec<String> = statements
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "route53:ChangeResourceRecordSets",
            "route53:ListResourceRecordSets",
        ]
    );
    for forbidden in ["Scan", "PutItem", "DeleteItem", "*"] {
        assert!(
            !actions.iter().any(|a| a.ends_with(forbidden)),
            "{forbidden} is granted: {actions:?}"
        );
    }
    assert!(statements.iter().all(|s| s["Effect"] == "Allow"));
    // The table and its one index, nothing else.
    let table = statements
        .iter()
        .find(|s| strings(&s["Action"]).contains(&"dynamodb:GetItem".to_owned()))
        .unwrap();
    let resources = table["Resource"].as_array().unwrap();
    assert_eq!(resources.len(), 2);
    assert_eq!(
        resources[0]["Fn::GetAtt"],
        serde_json::json!(["ConfigTable", "Arn"])
    );
    assert_eq!(
        resources[1]["Fn::Sub"],
        "${ConfigTable.Arn}/index/shared_secret-index"
    );
    // Changes are limited to the types the function manages.
    let change = statements
        .iter()
        .find(|s| strings(&s["Action"]).contains(&"route53:ChangeResourceRecordSets".to_owned()))
        .unwrap();
    let mut types = strings(
        &change["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"],
    );
    types.sort();
    assert_eq!(types, ["A", "AAAA", "TXT"]);
    assert_eq!(strings(&change["Action"]).len(), 1);
}

#[test]
fn dyndns2_and_post_need_no_key_while_the_seed_get_keeps_it() {
    let Some(template) = template() else {
        return;
    };
    let key_required =
        |name: &str| resource(&template, name)["Properties"]["ApiKeyRequired"].clone();
    let method = |name: &str| resource(&template, name)["Properties"]["HttpMethod"].clone();
    let per_parameter = serde_json::json!({"Fn::If": ["UseApiKey", true, false]});
    for seed in ["RootMethod", "ProxyMethod"] {
        assert_eq!(method(seed), "GET");
        assert_eq!(key_required(seed), per_parameter, "{seed}");
    }
    for open in [
        "NicUpdateMethod",
        "UpdateMethod",
        "RootPostMethod",
        "ProxyPostMethod",
    ] {
        assert_eq!(key_required(open), false, "{open}");
    }
    assert_eq!(
        resource(&template, "NicUpdateResource")["Properties"]["PathPart"],
        "update"
    );
    assert_eq!(
        resource(&template, "NicResource")["Properties"]["PathPart"],
        "nic"
    );
    assert_eq!(
        resource(&template, "UpdateResource")["Properties"]["PathPart"],
        "update"
    );
    // Every method is deployed.
    let deployed = strings(&resource(&template, "Deployment")["DependsOn"]);
    for name in [
        "RootMethod",
        "ProxyMethod",
        "NicUpdateMethod",
        "UpdateMethod",
        "RootPostMethod",
        "ProxyPostMethod",
    ] {
        assert!(
            deployed.contains(&name.to_owned()),
            "{name} is not deployed"
        );
    }
    // The key's value reaches the operator.
    let command = template["Outputs"]["apiKeyValueCommand"]["Value"]["Fn::Sub"]
        .as_str()
        .unwrap();
    assert!(command.contains("get-api-key") && command.contains("--include-value"));
}

#[test]
fn the_api_is_dual_stack_with_an_optional_custom_name() {
    let Some(template) = template() else {
        return;
    };
    let api = &resource(&template, "Api")["Properties"];
    assert_eq!(api["EndpointConfiguration"]["IpAddressType"], "dualstack");
    for parameter in ["apiCname", "acmCertificateARN"] {
        assert_eq!(
            template["Parameters"][parameter]["Default"], "",
            "{parameter}"
        );
    }
    let domain = resource(&template, "CustomDomain");
    assert_eq!(domain["Condition"], "UseCustomDomain");
    assert_eq!(
        domain["Properties"]["EndpointConfiguration"]["IpAddressType"],
        "dualstack"
    );
    assert_eq!(
        domain["Properties"]["RegionalCertificateArn"]["Ref"],
        "acmCertificateARN"
    );
    for (name, record_type) in [
        ("CustomDomainRecordA", "A"),
        ("CustomDomainRecordAAAA", "AAAA"),
    ] {
        assert_eq!(resource(&template, name)["Properties"]["Type"], record_type);
    }
    // The function is told the table's layout: no DescribeTable at start.
    let env = &resource(&template, "Function")["Properties"]["Environment"]["Variables"];
    assert_eq!(env["DDNS_TABLE_LAYOUT"], "classic");
}

#[test]
fn the_deploy_script_builds_uploads_and_deploys_the_template() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args([
            "--stack",
            "ddns",
            "--zone",
            "example.com",
            "--bucket",
            "my-bucket",
        ])
        .args([
            "--cname",
            "ddns.example.com",
            "--certificate",
            "arn:aws:acm:eu-west-1:1:certificate/x",
        ])
        .arg("--dry-run")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = printed.lines().collect();
    assert!(
        lines[0].starts_with("cargo lambda build --profile lambda --arm64 -p ddns-lambda"),
        "{printed}"
    );
    assert!(
        lines[1].contains("s3://my-bucket/ddns-lambda-"),
        "{printed}"
    );
    for part in [
        "cloudformation deploy --stack-name ddns",
        "examples/lambda/template.yaml",
        "route53ZoneName=example.com",
        "codeS3Bucket=my-bucket",
        "apiCname=ddns.example.com",
        "acmCertificateARN=arn:aws:acm:eu-west-1:1:certificate/x",
    ] {
        assert!(lines[2].contains(part), "{part} missing: {}", lines[2]);
    }
    // Bad use is told what is missing.
    let out = Command::new("bash")
        .arg(&script)
        .args(["--zone", "example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stack --bucket required"));
}

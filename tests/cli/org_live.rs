//! The organization's SCPs and RCPs read live (issue 12) from moto, which keeps an
//! organization per management account and answers a member's reads from the member's own,
//! empty, organization (`AccountNotFoundException`, never `AccessDenied`).
//!
//! Whoever creates an organization in moto becomes its management account, so every test here
//! starts a server of its own: the shared one's default account must stay outside any
//! organization for the other live tests. Refusals moto cannot give come from the stub AWS.
//! Needs moto: `./scripts/setup-moto.sh`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
use serde_json::{Value, json};

use crate::support::moto::{self, ACCESS_KEY, Clients, LiveCmd, MotoServer, Run, SECRET_KEY};
use crate::support::stub_aws::{
    ACCOUNT as STUB_ACCOUNT, StubAws, StubWorld, organizations, organizations_answer,
    organizations_error,
};
use crate::support::world::{ACCOUNT, AccountKeys, World};

/// A region-deny SCP that leaves out us-east-1, where the worlds live.
fn region_deny() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyOutsideEu",
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*", "organizations:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}
        }]
    })
    .to_string()
}

/// An organization in its own moto server, created by moto's default account (so that is the
/// management account), with SCPs and RCPs enabled and one OU, `Workloads`, under the root.
struct Org {
    server: MotoServer,
    client: aws_sdk_organizations::Client,
    root: String,
    workloads: String,
}

fn organizations_client(endpoint: &str, key: &str, secret: &str) -> aws_sdk_organizations::Client {
    let config = aws_sdk_organizations::Config::builder()
        .behavior_version(aws_sdk_organizations::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_organizations::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_organizations::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .build();
    aws_sdk_organizations::Client::from_conf(config)
}

impl Org {
    fn start() -> Org {
        let server = MotoServer::start(&[]);
        let client = organizations_client(&server.endpoint(), ACCESS_KEY, SECRET_KEY);
        let (root, workloads) = moto::runtime().block_on(async {
            client
                .create_organization()
                .feature_set(OrganizationFeatureSet::All)
                .send()
                .await
                .expect("organizations:CreateOrganization");
            let roots = client.list_roots().send().await.expect("ListRoots");
            let root = roots.roots()[0].id().expect("root id").to_string();
            for kind in [
                PolicyType::ServiceControlPolicy,
                PolicyType::ResourceControlPolicy,
            ] {
                client
                    .enable_policy_type()
                    .root_id(&root)
                    .policy_type(kind)
                    .send()
                    .await
                    .expect("EnablePolicyType");
            }
            let ou = client
                .create_organizational_unit()
                .parent_id(&root)
                .name("Workloads")
                .send()
                .await
                .expect("CreateOrganizationalUnit");
            let ou = ou
                .organizational_unit()
                .and_then(|u| u.id())
                .expect("OU id")
                .to_string();
            (root, ou)
        });
        Org {
            server,
            client,
            root,
            workloads,
        }
    }

    /// A new member account under `parent`, with static keys of an IAM user there (moto maps
    /// them to the member; the management account's role in it gives the first credentials).
    fn member(&self, name: &str, parent: &str) -> AccountKeys {
        moto::runtime().block_on(async {
            let created = self
                .client
                .create_account()
                .account_name(name)
                .email(format!("{name}@example.com"))
                .send()
                .await
                .expect("CreateAccount");
            let account = created
                .create_account_status()
                .and_then(|s| s.account_id())
                .expect("account id")
                .to_string();
            self.client
                .move_account()
                .account_id(&account)
                .source_parent_id(&self.root)
                .destination_parent_id(parent)
                .send()
                .await
                .expect("MoveAccount");
            let management = Clients::new(&self.server.endpoint(), "us-east-1");
            let assumed = management
                .sts
                .assume_role()
                .role_arn(format!(
                    "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
                ))
                .role_session_name("org-setup")
                .send()
                .await
                .expect("sts:AssumeRole into the member");
            let c = assumed.credentials().expect("credentials");
            let iam = aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::Config::builder()
                    .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
                    .endpoint_url(self.server.endpoint())
                    .region(aws_sdk_iam::config::Region::new("us-east-1"))
                    .credentials_provider(aws_sdk_iam::config::Credentials::new(
                        c.access_key_id(),
                        c.secret_access_key(),
                        Some(c.session_token().to_string()),
                        None,
                        "test",
                    ))
                    .build(),
            );
            iam.create_user()
                .user_name("admin")
                .send()
                .await
                .expect("iam:CreateUser in the member");
            let key = iam
                .create_access_key()
                .user_name("admin")
                .send()
                .await
                .expect("iam:CreateAccessKey in the member");
            let key = key.access_key().expect("access key");
            AccountKeys {
                account,
                access_key: key.access_key_id().to_string(),
                secret_key: key.secret_access_key().to_string(),
            }
        })
    }

    /// A customer SCP attached to `target`; returns its ID.
    fn attach_scp(&self, name: &str, content: &str, target: &str) -> String {
        moto::runtime().block_on(async {
            let created = self
                .client
                .create_policy()
                .name(name)
                .description(name)
                .r#type(PolicyType::ServiceControlPolicy)
                .content(content)
                .send()
                .await
                .expect("CreatePolicy");
            let id = created
                .policy()
                .and_then(|p| p.policy_summary())
                .and_then(|s| s.id())
                .expect("policy id")
                .to_string();
            self.client
                .attach_policy()
                .policy_id(&id)
                .target_id(target)
                .send()
                .await
                .expect("AttachPolicy");
            id
        })
    }
}

/// Runs `cmd` with `--save-facts`; returns the run and each attachment's facts.
fn run_saving_facts(cmd: LiveCmd, dir: &Path) -> (Run, Vec<Value>) {
    let bundle = dir.join("facts.json");
    let run = cmd
        .args(["--save-facts".into(), bundle.clone().into_os_string()])
        .run();
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(&bundle).unwrap_or_else(|e| panic!("{e}\n{}", run.pretty())),
    )
    .expect("the bundle is JSON");
    let facts = saved["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["facts"].clone())
        .collect();
    (run, facts)
}

/// The organization calls of a run, by operation.
fn org_calls(report: &Value) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    let lists: Vec<&Value> = match report["reports"].as_array() {
        Some(reports) => reports.iter().map(|r| &r["aws"]["calls"]).collect(),
        None => vec![&report["aws"]["calls"]],
    };
    for list in lists {
        for c in list.as_array().expect("calls") {
            let op = c["operation"].as_str().unwrap_or_default();
            if op.starts_with("organizations:") {
                *calls.entry(op.to_string()).or_default() += 1;
            }
        }
    }
    calls
}

/// The levels of a known organization fact as (kind, id, name, [SCP IDs]).
fn levels(organization: &Value) -> Vec<(String, String, String, Vec<String>)> {
    organization["value"]["levels"]
        .as_array()
        .unwrap_or_else(|| panic!("no levels: {organization:#}"))
        .iter()
        .map(|l| {
            let ids = |key: &str| -> Vec<String> {
                l[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["id"].as_str().unwrap().to_string())
                    .collect()
            };
            (
                l["kind"].as_str().unwrap().to_string(),
                l["id"].as_str().unwrap().to_string(),
                l["name"].as_str().unwrap().to_string(),
                ids("scps"),
            )
        })
        .collect()
}

#[test]
fn a_member_reading_with_its_own_credentials_is_told_how_to_read_them() {
    let org = Org::start();
    let member = org.member("own-creds", &org.workloads);
    let world = World::builder("org-own")
        .in_account(member)
        .build_on(&org.server);
    let dir = tempfile::tempdir().unwrap();
    let (run, facts) = run_saving_facts(world.cmd(), dir.path());
    let organization = &facts[0]["organization"];
    assert_eq!(organization["state"], "unavailable", "{organization:#}");
    let why = organization["value"].as_str().unwrap();
    // moto answers a member's reads from its own empty organization.
    assert!(world.role_arn.contains(&world.account));
    for needle in [
        world.account.as_str(),
        "organizations:ListParents",
        "AccountNotFoundException",
        "the attachment's own credentials",
        "org_profile",
        "org_assume_role_arn",
    ] {
        assert!(why.contains(needle), "`{needle}` not in: {why}");
    }
    // DescribeOrganization and ListRoots answer a member (moto forwards both).
    assert_eq!(
        org_calls(&run.report),
        BTreeMap::from([
            ("organizations:DescribeOrganization".to_string(), 1),
            ("organizations:ListRoots".to_string(), 1),
            ("organizations:ListParents".to_string(), 1),
        ]),
        "{}",
        run.pretty()
    );
    // The rest of the member's world is read with its keys and is correct; the organization's
    // policies are skipped with the way out, not an error.
    run.assert_fails_exactly(&[]);
    assert_eq!(run.status("org.policies"), "skip", "{}", run.pretty());
    assert!(
        run.text("org.policies").contains("org_profile"),
        "{}",
        run.pretty()
    );
}

/// The management account's role that reads the organization (moto does not check trust, so
/// the member's keys may assume it).
fn org_reader() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/org-reader")
}

#[test]
fn a_member_read_through_the_management_account_has_root_ou_and_account_levels() {
    let org = Org::start();
    let member = org.member("full-access", &org.workloads);
    let world = World::builder("org-full")
        .in_account(member)
        .build_on(&org.server);
    let dir = tempfile::tempdir().unwrap();
    let (run, facts) = run_saving_facts(
        world
            .cmd()
            .args(["--org-assume-role-arn".to_string(), org_reader()]),
        dir.path(),
    );
    let organization = &facts[0]["organization"];
    assert_eq!(organization["state"], "known", "{}", run.pretty());
    assert_eq!(organization["value"]["management_account"], ACCOUNT);
    assert_eq!(organization["value"]["account"], world.account.as_str());
    let full = vec!["p-FullAWSAccess".to_string()];
    assert_eq!(
        levels(organization),
        [
            ("root".into(), org.root.clone(), "Root".into(), full.clone()),
            (
                "organizational_unit".into(),
                org.workloads.clone(),
                "Workloads".into(),
                full.clone()
            ),
            (
                "account".into(),
                world.account.clone(),
                world.account.clone(),
                full
            ),
        ],
        "{organization:#}"
    );
    for level in organization["value"]["levels"].as_array().unwrap() {
        let rcps: Vec<&str> = level["rcps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(rcps, ["p-RCPFullAWSAccess"], "{level:#}");
    }
    run.assert_fails_exactly(&[]);
    // FullAWSAccess and RCPFullAWSAccess alone let AoC through.
    assert_eq!(run.status("org.policies"), "pass", "{}", run.pretty());
}

#[test]
fn a_region_deny_at_an_ou_is_read_at_that_level() {
    let org = Org::start();
    let member = org.member("region-deny", &org.workloads);
    let deny = org.attach_scp("ou-region-deny", &region_deny(), &org.workloads);
    let world = World::builder("org-deny")
        .in_account(member)
        .build_on(&org.server);
    let dir = tempfile::tempdir().unwrap();
    let (run, facts) = run_saving_facts(
        world
            .cmd()
            .args(["--org-assume-role-arn".to_string(), org_reader()]),
        dir.path(),
    );
    let organization = &facts[0]["organization"];
    let found = levels(organization);
    assert_eq!(found.len(), 3, "{organization:#}");
    assert_eq!(found[1].1, org.workloads);
    assert_eq!(found[1].2, "Workloads");
    assert_eq!(
        found[1].3,
        ["p-FullAWSAccess".to_string(), deny.clone()],
        "{organization:#}"
    );
    assert_eq!(found[0].3, ["p-FullAWSAccess"]);
    assert_eq!(found[2].3, ["p-FullAWSAccess"]);
    let custom = &organization["value"]["levels"][1]["scps"][1];
    assert_eq!(
        custom["policy"]["label"],
        format!("service control policy ou-region-deny ({deny})"),
        "{custom:#}"
    );
    // One account under one OU: each read once, each policy's content once.
    assert_eq!(
        org_calls(&run.report),
        BTreeMap::from([
            ("organizations:DescribeOrganization".to_string(), 1),
            ("organizations:ListRoots".to_string(), 1),
            ("organizations:ListParents".to_string(), 2),
            ("organizations:DescribeOrganizationalUnit".to_string(), 1),
            ("organizations:ListPoliciesForTarget".to_string(), 6),
            ("organizations:DescribePolicy".to_string(), 3),
        ]),
        "{}",
        run.pretty()
    );
    // The bucket's region is outside the SCP's list: org.policies fails naming the OU and the
    // policy, and nothing else does.
    run.assert_fails_exactly(&["org.policies"]);
    let text = run.text("org.policies");
    for needle in ["Workloads", "ou-region-deny", deny.as_str()] {
        assert!(text.contains(needle), "`{needle}` not in {}", run.pretty());
    }
}

#[test]
fn an_account_in_no_organization_is_known_to_be_in_none() {
    let world = World::builder("org-none").build();
    let dir = tempfile::tempdir().unwrap();
    let (run, facts) = run_saving_facts(world.cmd(), dir.path());
    assert_eq!(
        facts[0]["organization"],
        json!({"state": "known", "value": null}),
        "{}",
        run.pretty()
    );
    assert_eq!(
        org_calls(&run.report),
        BTreeMap::from([("organizations:DescribeOrganization".to_string(), 1)]),
    );
    run.assert_fails_exactly(&[]);
    assert_eq!(run.status("org.policies"), "skip", "{}", run.pretty());
}

#[test]
fn the_management_account_reads_its_own_levels_and_is_named_management() {
    let org = Org::start();
    let world = World::builder("org-mgmt").build_on(&org.server);
    // A region-deny SCP on the management account itself: SCPs do not apply there.
    let deny = org.attach_scp("mgmt-region-deny", &region_deny(), ACCOUNT);
    let dir = tempfile::tempdir().unwrap();
    let (run, facts) = run_saving_facts(world.cmd(), dir.path());
    let organization = &facts[0]["organization"];
    assert_eq!(organization["state"], "known", "{}", run.pretty());
    let value = &organization["value"];
    assert_eq!(value["management_account"], ACCOUNT);
    assert_eq!(value["account"], ACCOUNT);
    assert_eq!(value["scps_enabled"], true);
    assert_eq!(value["rcps_enabled"], true);
    assert_eq!(
        levels(organization),
        [
            (
                "root".to_string(),
                org.root.clone(),
                "Root".to_string(),
                vec!["p-FullAWSAccess".to_string()]
            ),
            (
                "account".to_string(),
                ACCOUNT.to_string(),
                ACCOUNT.to_string(),
                vec!["p-FullAWSAccess".to_string(), deny.clone()]
            ),
        ],
        "{organization:#}"
    );
    // AWS's own policies are known by ID and flag, not by ARN (moto's differ from AWS's).
    let root_scp = &value["levels"][0]["scps"][0];
    assert_eq!(root_scp["aws_managed"], true, "{root_scp:#}");
    let custom = &value["levels"][1]["scps"][1];
    assert_eq!(custom["aws_managed"], false, "{custom:#}");
    assert_eq!(custom["name"], "mgmt-region-deny");
    assert_eq!(
        custom["policy"]["document"]["statements"][0]["sid"], "DenyOutsideEu",
        "{custom:#}"
    );
    // The same SCP that fails a member is no obstacle in the management account.
    run.assert_fails_exactly(&[]);
    assert_eq!(run.status("org.policies"), "pass", "{}", run.pretty());
    assert!(
        run.text("org.policies").contains("management"),
        "{}",
        run.pretty()
    );
}

/// Three attachments, two in one member account and one in another, both under the same OU,
/// read with the management account's credentials: the organization, the OU and each
/// account are read once, and each policy's content once.
#[test]
fn a_fleet_reads_each_ou_account_and_policy_once() {
    let org = Org::start();
    let a = org.member("fleet-a", &org.workloads);
    let b = org.member("fleet-b", &org.workloads);
    org.attach_scp("fleet-region-deny", &region_deny(), &org.workloads);
    let mut config = String::new();
    for (name, account, path) in [
        ("a1", &a.account, "/one"),
        ("a2", &a.account, "/two"),
        ("b1", &b.account, "/one"),
    ] {
        writeln!(
            config,
            "[[attachment]]\nname = \"{name}\"\nregion = \"us-east-1\"\nbucket = \"org-fleet-{account}\"\n\
             path = \"{path}\"\nkms_key = \"arn:aws:kms:us-east-1:{account}:key/0b4d2e9c-1111-4222-8333-444455556666\"\n\
             role_arn = \"arn:aws:iam::{account}:role/aoc\"\nexternal_id = \"x\"\n\
             aoc_principal = \"arn:aws:iam::860559707280:role/atp-aws-us-east-1-ts-atc-node\"\n"
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, &config).unwrap();
    let cmd = LiveCmd::new(&org.server.endpoint())
        .args(["--config".into(), file.into_os_string()])
        .args(["--jobs", "3"]);
    let (run, facts) = run_saving_facts(cmd, dir.path());
    for f in &facts {
        let organization = &f["organization"];
        assert_eq!(organization["state"], "known", "{organization:#}");
        let names: Vec<String> = levels(organization).into_iter().map(|l| l.2).collect();
        assert_eq!(names[..2], ["Root", "Workloads"], "{organization:#}");
    }
    assert_eq!(
        org_calls(&run.report),
        BTreeMap::from([
            ("organizations:DescribeOrganization".to_string(), 1),
            ("organizations:ListRoots".to_string(), 1),
            // Each account's parent, and the OU's.
            ("organizations:ListParents".to_string(), 3),
            ("organizations:DescribeOrganizationalUnit".to_string(), 1),
            // SCPs and RCPs of the root, the OU and the two accounts.
            ("organizations:ListPoliciesForTarget".to_string(), 8),
            // FullAWSAccess, RCPFullAWSAccess and the region deny.
            ("organizations:DescribePolicy".to_string(), 3),
        ]),
        "{}",
        run.pretty()
    );
}

/// What a member without delegation gets from AWS for the reads only the management account
/// or a delegated administrator may make (moto never refuses them).
#[test]
fn refused_organization_reads_are_explained_not_errors() {
    let stub = StubAws::start(StubWorld::default());
    stub.mount(
        organizations("DescribeOrganization")
            .respond_with(
                organizations_answer(
                    200,
                    json!({"Organization": {
                        "Id": "o-exampleorgid",
                        "Arn": "arn:aws:organizations::111111111111:organization/o-exampleorgid",
                        "FeatureSet": "ALL",
                        "MasterAccountId": "111111111111",
                        "MasterAccountArn": "arn:aws:organizations::111111111111:account/o-exampleorgid/111111111111",
                        "MasterAccountEmail": "bill@example.com"
                    }}),
                )
                .template(),
            )
            .with_priority(1),
    );
    stub.mount(
        organizations("ListRoots")
            .respond_with(
                organizations_error(
                    400,
                    "AccessDeniedException",
                    "You don't have permissions to access this resource.",
                )
                .template(),
            )
            .with_priority(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let (run, facts) = run_saving_facts(stub.cmd(), dir.path());
    let organization = &facts[0]["organization"];
    assert_eq!(organization["state"], "unavailable", "{organization:#}");
    let why = organization["value"].as_str().unwrap();
    for needle in [
        STUB_ACCOUNT,
        "organizations:ListRoots",
        "AccessDeniedException",
        "You don't have permissions to access this resource",
        "management account or a delegated administrator",
        "org_profile",
    ] {
        assert!(why.contains(needle), "`{needle}` not in: {why}");
    }
    // Nothing else is affected: the stub's attachment is correct; org.policies is skip, not
    // error, with the way out.
    assert!(run.with_status("error").is_empty(), "{}", run.pretty());
    assert_eq!(run.status("org.policies"), "skip", "{}", run.pretty());
    assert!(
        run.text("org.policies").contains("org_profile"),
        "{}",
        run.pretty()
    );
}

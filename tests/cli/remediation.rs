//! Remediation that works: for broken offline fixtures, apply the documents the report
//! proposes (`fixes` in the JSON report), run the check again, and see it pass. The
//! remediation text must also name the real ARNs and values.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn seed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/seed")
        .join(name)
}

const BUCKET: &str = "aspera-kms";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:239600258224:key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46";
const ROLE_ARN: &str = "arn:aws:iam::239600258224:role/aspera-kms-access";

/// The documents of one offline run; each test mutates one of them.
#[derive(Clone)]
struct Fixture {
    path: String,
    identity: Vec<PathBuf>,
    key_policy: PathBuf,
    bucket_policy: PathBuf,
    role_trust: PathBuf,
}

impl Fixture {
    fn seed() -> Self {
        Fixture {
            path: "/".into(),
            identity: vec![seed("s3-access-policy.json"), seed("kms-policy.json")],
            key_policy: seed("key-policy.json"),
            bucket_policy: seed("bucket-policy.json"),
            role_trust: seed("role-trust-policy.json"),
        }
    }

    fn run(&self) -> Value {
        let mut cmd = crate::support::bin();
        cmd.args(["check", "--offline", "--format", "json"])
            .args([
                "--region",
                "us-east-1",
                "--bucket",
                BUCKET,
                "--path",
                &self.path,
            ])
            .args(["--kms-key", KEY_ARN, "--role-arn", ROLE_ARN])
            .arg("--trust-policy")
            .arg(seed("aoc-trust-policy.json"))
            .arg("--key-policy")
            .arg(&self.key_policy)
            .arg("--bucket-policy")
            .arg(&self.bucket_policy)
            .arg("--role-trust-policy")
            .arg(&self.role_trust);
        for p in &self.identity {
            cmd.arg("--identity-policy").arg(p);
        }
        let out = cmd.output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// Applies every proposed document as an admin would: a new inline policy is added, a
    /// corrected file replaces that file, the others replace the document they name.
    fn apply(&mut self, report: &Value, dir: &Path) -> usize {
        let mut applied = 0;
        for check in report["checks"].as_array().unwrap() {
            for fix in check["fixes"].as_array().unwrap() {
                applied += 1;
                let file = dir.join(format!("fix-{applied}.json"));
                std::fs::write(&file, fix["document"].to_string()).unwrap();
                match fix["applies_to"].as_str().unwrap() {
                    "identity-policy" => self.identity.push(file),
                    "policy-file" => {
                        let target = PathBuf::from(fix["file"].as_str().unwrap());
                        let slot = self
                            .identity
                            .iter_mut()
                            .find(|p| **p == target)
                            .unwrap_or_else(|| panic!("the fix names {target:?}, not given"));
                        *slot = file;
                    }
                    "key-policy" => self.key_policy = file,
                    "bucket-policy" => self.bucket_policy = file,
                    "trust-policy" => self.role_trust = file,
                    other => panic!("unknown fix target {other}"),
                }
            }
        }
        applied
    }
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs the fixture, expects `id` to fail with remediation naming `names`, applies the
/// fixes, and expects `id` to pass.
fn fix_and_rerun(mut fixture: Fixture, id: &str, names: &[&str], dir: &Path) {
    let before = fixture.run();
    let failing = check(&before, id);
    assert_eq!(failing["status"], "fail", "{failing:#}");
    let remediation = failing["remediation"].as_str().unwrap_or_default();
    for n in names {
        assert!(
            remediation.contains(n),
            "`{n}` not in remediation: {remediation}"
        );
    }
    assert!(fixture.apply(&before, dir) > 0, "no fix proposed for {id}");
    let after = fixture.run();
    let fixed = check(&after, id);
    // A warning may stay for the IBM procedure's other KMS actions: advice that no fix grants.
    let advice_only = fixed["status"] == "warn"
        && fixed["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "warn")
            .all(|f| f["reason"] == "recommended-missing");
    assert!(fixed["status"] == "pass" || advice_only, "{fixed:#}");
    // Fixing one thing breaks nothing else.
    for c in after["checks"].as_array().unwrap() {
        assert_ne!(c["status"], "fail", "{c:#}");
    }
}

#[test]
fn missing_object_grant_is_fixed_by_the_proposed_policy() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Fixture::seed();
    let text = std::fs::read_to_string(seed("s3-access-policy.json"))
        .unwrap()
        .replace("arn:aws:s3:::aspera-kms/*", "arn:aws:s3:::aspera-kms");
    f.identity[0] = write(dir.path(), "s3.json", &text);
    fix_and_rerun(
        f,
        "role.s3-access",
        // The file that grants on the wrong resource, corrected whole.
        &[
            "arn:aws:s3:::aspera-kms/*",
            "The whole file, corrected",
            "s3.json):",
        ],
        dir.path(),
    );
}

#[test]
fn policy_for_another_path_is_fixed_for_the_attachment_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Fixture::seed();
    f.path = "/data/in".into();
    let text = std::fs::read_to_string(seed("s3-access-policy.json"))
        .unwrap()
        .replace("aspera-kms/*", "aspera-kms/other/*");
    f.identity[0] = write(dir.path(), "s3.json", &text);
    fix_and_rerun(
        f,
        "role.s3-access",
        &["arn:aws:s3:::aspera-kms/data/in/*"],
        dir.path(),
    );
}

#[test]
fn kms_grant_on_the_alias_is_fixed_with_the_key_arn() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Fixture::seed();
    let text = std::fs::read_to_string(seed("kms-policy.json"))
        .unwrap()
        .replace(
            "key/65a140e1-8c8f-4dd5-b2d7-d6cf05e15b46",
            "alias/aspera-kms",
        );
    f.identity[1] = write(dir.path(), "kms.json", &text);
    fix_and_rerun(f, "role.kms-access", &[KEY_ARN], dir.path());
}

#[test]
fn key_policy_without_a_grant_is_fixed_by_the_merged_policy() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Fixture::seed();
    f.key_policy = write(
        dir.path(),
        "key.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "KeyAdmins", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::239600258224:role/KeyAdmin"},
            "Action": "kms:*", "Resource": "*"}]}"#,
    );
    fix_and_rerun(
        f.clone(),
        "kms.key-policy",
        &[ROLE_ARN, "put-key-policy", "KeyAdmin"],
        dir.path(),
    );
}

#[test]
fn stale_trust_policy_is_fixed_by_aocs_policy() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Fixture::seed();
    let text = std::fs::read_to_string(seed("role-trust-policy.json"))
        .unwrap()
        .replace("3b6f5a1c-9d2e-4f8a-b7c6-0e1d2c3b4a59", "stale-external-id");
    f.role_trust = write(dir.path(), "trust.json", &text);
    fix_and_rerun(
        f,
        "role.trust",
        &[
            "stale-external-id",
            "3b6f5a1c-9d2e-4f8a-b7c6-0e1d2c3b4a59",
            "--role-name aspera-kms-access",
        ],
        dir.path(),
    );
}

#[test]
fn the_broken_example_is_fixed_by_its_own_remediation() {
    let dir = tempfile::tempdir().unwrap();
    let broken = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/broken");
    let mut f = Fixture::seed();
    f.identity = vec![
        broken.join("s3-access-policy.json"),
        broken.join("kms-policy.json"),
    ];
    f.role_trust = broken.join("role-trust-policy.json");
    let before = f.run();
    assert_eq!(before["summary"]["fail"], 3, "{before:#}");
    f.apply(&before, dir.path());
    let after = f.run();
    assert_eq!(after["summary"]["fail"], 0, "{after:#}");
    // The misspelled action was corrected in the file that had it, not added beside it.
    let s3 = check(&after, "role.s3-access");
    assert_eq!(s3["status"], "pass", "{s3:#}");
}

/// The same round trip in live mode: apply the proposed documents to the moto world with the
/// AWS SDK (as an admin would with the `aws` commands the report gives), check again, pass.
mod live {
    use serde_json::Value;

    use crate::support::moto::{Clients, runtime, shared};
    use crate::support::world::World;

    fn apply(world: &World, report: &Value) -> usize {
        let clients = Clients::new(&shared().endpoint(), &world.region);
        let mut applied = 0;
        runtime().block_on(async {
            for check in report["checks"].as_array().unwrap() {
                for fix in check["fixes"].as_array().unwrap() {
                    applied += 1;
                    let doc = fix["document"].to_string();
                    match fix["applies_to"].as_str().unwrap() {
                        // Under the name the fix gives: an existing inline policy is replaced
                        // whole, so a fragment here would drop grants.
                        "identity-policy" => {
                            clients
                                .iam
                                .put_role_policy()
                                .role_name(&world.role_name)
                                .policy_name(fix["policy_name"].as_str().unwrap())
                                .policy_document(doc)
                                .send()
                                .await
                                .expect("put-role-policy");
                        }
                        "managed-policy-version" => {
                            clients
                                .iam
                                .create_policy_version()
                                .policy_arn(fix["policy_arn"].as_str().unwrap())
                                .policy_document(doc)
                                .set_as_default(true)
                                .send()
                                .await
                                .expect("create-policy-version");
                        }
                        "key-policy" => {
                            clients
                                .kms
                                .put_key_policy()
                                .key_id(&world.key_arn)
                                .policy_name("default")
                                .policy(doc)
                                .send()
                                .await
                                .expect("put-key-policy");
                        }
                        "trust-policy" => {
                            clients
                                .iam
                                .update_assume_role_policy()
                                .role_name(&world.role_name)
                                .policy_document(doc)
                                .send()
                                .await
                                .expect("update-assume-role-policy");
                        }
                        other => panic!("unexpected fix target {other}"),
                    }
                }
            }
        });
        applied
    }

    fn fix_and_rerun(world: World, id: &str) {
        let before = world.check();
        assert_eq!(before.status(id), "fail", "{}", before.pretty());
        assert!(
            apply(&world, &before.report) > 0,
            "no fix proposed for {id}"
        );
        let after = world.check();
        assert_eq!(after.code, 0, "{}", after.pretty());
        assert_eq!(after.status(id), "pass", "{}", after.pretty());
    }

    #[test]
    fn a_missing_s3_action_is_fixed_in_aws_by_the_proposed_policy() {
        fix_and_rerun(
            World::builder("fix-s3")
                .without_s3_action("s3:DeleteObject")
                .build(),
            "role.s3-access",
        );
    }

    #[test]
    fn a_key_policy_without_a_grant_is_fixed_in_aws_by_the_merged_policy() {
        let admin_only = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "KeyAdmins",
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${ACCOUNT}:role/KeyAdmin"},
            "Action": "kms:*", "Resource": "*"}]}"#;
        fix_and_rerun(
            World::builder("fix-keypolicy")
                .key_policy(admin_only)
                .build(),
            "kms.key-policy",
        );
    }

    #[test]
    fn a_stale_trust_policy_is_fixed_in_aws_by_aocs_policy() {
        fix_and_rerun(
            World::builder("fix-trust")
                .role_external_id("00000000-0000-4000-8000-00000000dead")
                .build(),
            "role.trust",
        );
    }
}

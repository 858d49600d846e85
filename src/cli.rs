//! Command-line definitions (clap derive) and nothing else: no validation beyond what clap
//! does, no I/O. The names here are a contract (docs/contract.md, "Command line"): add, never rename.
//!
//! Every command's arguments are defined here and the command modules import them, so the
//! command line is read in one place and depends on no command.

use std::path::PathBuf;

use crate::model::org_input::OrgPolicyFile;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Verify that an S3 bucket encrypted with a KMS key is set up correctly to be attached as
/// storage to IBM Aspera on Cloud, and say exactly what to fix when it is not.
#[derive(Debug, Parser)]
#[command(name = "aoc-preflight", version, about, long_about = None)]
pub struct Cli {
    /// When to colour text output.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the preflight checks for an attachment.
    Check(Box<CheckArgs>),
    /// Evaluate one request against policy documents, offline (like `aws iam
    /// simulate-custom-policy`, with resource policies).
    Simulate(SimulateArgs),
    /// List the checks: IDs and titles.
    Checks(ChecksArgs),
    /// Say what usually causes an error message an admin saw, and which checks confirm it.
    Explain(Box<ExplainArgs>),
    /// Write the policy documents an attachment needs, correct by construction.
    Generate(Box<GenerateArgs>),
    /// Print the read-only IAM policy the tool needs in live mode (scoped to the attachment
    /// given by flags, else to any bucket, key and role).
    Permissions(PermissionsArgs),
    /// Write a commented config file (`aoc.toml`) for one attachment, from the flags given and
    /// with placeholders for the rest, ready to fill in.
    Init(InitArgs),
    /// Print the shell completion script for bash, zsh, fish or PowerShell.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `aoc-preflight man > aoc-preflight.1`.
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub attachment_args: AttachmentArgs,
    /// A name for the attachment, shown in reports.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The file to write (`-` for standard output).
    #[arg(long, value_name = "FILE", default_value = "aoc.toml")]
    pub output: PathBuf,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Default, Args)]
pub struct PermissionsArgs {
    /// A TOML file with `[[attachment]]` tables (as for `check`): scope the policy to its
    /// attachment (flags override its values).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// With a config file of several attachments, the one to scope the policy to.
    #[arg(long, value_name = "NAME")]
    pub attachment: Option<String>,
    #[command(flatten)]
    pub attachment_args: AttachmentArgs,
    /// Also grant what `check --probe` needs: writing, reading and deleting its own probe
    /// objects under the path.
    #[arg(long)]
    pub probe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ReportFormat {
    /// For a person at a terminal (coloured there).
    #[default]
    Text,
    /// The report model (`schema_version` 1).
    Json,
    /// JUnit XML: one testsuite per attachment, one testcase per check.
    Junit,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// Markdown, for a pull request or a CI step summary.
    Markdown,
    /// The access path (AoC → role → bucket and key) as a Graphviz graph: `dot -Tsvg`.
    Dot,
}

impl From<ReportFormat> for crate::report::Format {
    fn from(format: ReportFormat) -> Self {
        use crate::report::Format as F;
        match format {
            ReportFormat::Text => F::Text,
            ReportFormat::Json => F::Json,
            ReportFormat::Junit => F::Junit,
            ReportFormat::Sarif => F::Sarif,
            ReportFormat::Markdown => F::Markdown,
            ReportFormat::Dot => F::Dot,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum FailOn {
    #[default]
    Fail,
    Warn,
}

/// The attachment as entered in AoC. Each flag overrides the same key of the config file.
#[derive(Debug, Clone, Default, Args)]
pub struct AttachmentArgs {
    /// The region selected in AoC.
    #[arg(long, env = "AOC_PREFLIGHT_REGION")]
    pub region: Option<String>,
    /// The bucket name.
    #[arg(long, env = "AOC_PREFLIGHT_BUCKET")]
    pub bucket: Option<String>,
    /// The bucket path entered in AoC (default `/`).
    #[arg(long, env = "AOC_PREFLIGHT_PATH")]
    pub path: Option<String>,
    /// The KMS key as entered in AoC: a key ARN or an alias ARN.
    #[arg(long, env = "AOC_PREFLIGHT_KMS_KEY")]
    pub kms_key: Option<String>,
    /// The IAM role ARN entered in AoC.
    #[arg(long, env = "AOC_PREFLIGHT_ROLE_ARN")]
    pub role_arn: Option<String>,
    /// The trust relationship JSON copied from the AoC page (`-` reads standard input).
    #[arg(long, value_name = "FILE|-")]
    pub trust_policy: Option<String>,
    /// AoC's external ID, when the trust policy JSON is not at hand.
    #[arg(long, env = "AOC_PREFLIGHT_EXTERNAL_ID")]
    pub external_id: Option<String>,
    /// AoC's principal ARN (the IBM role that assumes yours), with --external-id.
    #[arg(long, env = "AOC_PREFLIGHT_AOC_PRINCIPAL")]
    pub aoc_principal: Option<String>,
}

/// The policy documents offline mode judges, as files (and the bucket's account, which offline
/// mode cannot ask S3). With a config file, each flag overrides every attachment's value.
#[derive(Debug, Clone, Default, Args)]
pub struct DocumentArgs {
    /// The role's identity policies (inline and managed), one file each. Repeatable.
    #[arg(long = "identity-policy", value_name = "FILE")]
    pub identity_policies: Vec<PathBuf>,
    /// The role's permissions boundary policy.
    #[arg(long, value_name = "FILE")]
    pub permissions_boundary: Option<PathBuf>,
    /// The bucket policy.
    #[arg(long, value_name = "FILE")]
    pub bucket_policy: Option<PathBuf>,
    /// The KMS key policy.
    #[arg(long, value_name = "FILE")]
    pub key_policy: Option<PathBuf>,
    /// The trust policy the role has in AWS now.
    #[arg(long, value_name = "FILE")]
    pub role_trust_policy: Option<PathBuf>,
    /// A Terraform plan as JSON (`terraform show -json PLANFILE`): the role's, bucket's and
    /// key's documents as Terraform will apply them. A document also given as a file is taken
    /// from the file; --identity-policy files add to the plan's policies (one named like a
    /// plan's policy replaces that one).
    #[arg(long, value_name = "FILE")]
    pub terraform_plan: Option<PathBuf>,
    /// Offline: the account that owns the bucket (default: the role's account). Live mode
    /// establishes it with S3 (`ExpectedBucketOwner`).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub bucket_account: Option<String>,
    /// A service control policy of the role's organization, at its level: LEVEL is `root`
    /// (the default), `ou:PATH` (OU names from the root, e.g. `ou:Sales/Prod`) or `account`.
    /// Every level keeps FullAWSAccess unless an SCP given there has an Allow (an allow-list);
    /// `FullAWSAccess` as FILE stands for AWS's policy. Repeatable.
    #[arg(long = "scp", value_name = "[LEVEL=]FILE", value_parser = OrgPolicyFile::parse)]
    pub scps: Vec<OrgPolicyFile>,
    /// A resource control policy of the organization, at its level (as for --scp).
    /// Repeatable; RCPFullAWSAccess is at every level.
    #[arg(long = "rcp", value_name = "[LEVEL=]FILE", value_parser = OrgPolicyFile::parse)]
    pub rcps: Vec<OrgPolicyFile>,
    /// The organization's management account, which SCPs and RCPs do not limit (default: the
    /// role's account is taken to be a member).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub org_management_account: Option<String>,
}

/// What `check` judges and where it reads it: the attachments (a config file, flags), the
/// documents offline, the AWS credentials live. `explain` takes the same, to run its checks.
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// A TOML file with one or more `[[attachment]]` tables.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// With a config file of several attachments, check only the one with this name.
    #[arg(long, value_name = "NAME")]
    pub attachment: Option<String>,

    #[command(flatten)]
    pub attachment_args: AttachmentArgs,

    /// Judge documents given as files instead of reading AWS.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub documents: DocumentArgs,

    /// Named AWS profile for live mode.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub org: OrgArgs,
    /// AWS endpoint URL for live mode (an emulator, a VPC endpoint): `http://` or `https://`
    /// and a host.
    #[arg(long, env = "AWS_ENDPOINT_URL", value_parser = endpoint_url)]
    pub endpoint_url: Option<String>,
}

/// An endpoint URL the SDK can send to: without a scheme it fails at the first request with
/// its internal request dump, far from the typo.
fn endpoint_url(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("`{value}` has no scheme: give the whole URL, e.g. `https://{value}`")
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{value}` has no host"));
    }
    Ok(value.to_string())
}

/// Live mode: whose credentials read the organization's SCPs and RCPs. They answer only the
/// management account or a delegated administrator; without these, the attachment's own
/// credentials try. A config file's `org_profile` / `org_assume_role_arn` win over them, as
/// `profile` wins over --profile.
#[derive(Debug, Clone, Default, Args)]
pub struct OrgArgs {
    /// AWS profile of the organization's management account or a delegated administrator,
    /// to read the SCPs and RCPs that apply (org.policies).
    #[arg(long, value_name = "PROFILE")]
    pub org_profile: Option<String>,
    /// A role there to assume (from --org-profile's credentials, else the attachment's) to
    /// read the SCPs and RCPs that apply (org.policies).
    #[arg(long, value_name = "ARN")]
    pub org_assume_role_arn: Option<String>,
    /// The external ID --org-assume-role-arn's trust policy asks for.
    #[arg(long, value_name = "ID", requires = "org_assume_role_arn")]
    pub org_assume_role_external_id: Option<String>,
}

/// `--jobs` when not given.
pub const DEFAULT_JOBS: usize = 8;
/// `--timeout` when not given.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

#[derive(Debug, Clone, Default, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Live mode: how many attachments to check at once (1 or more).
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_JOBS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub jobs: usize,
    /// Overall time limit for live mode, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECONDS)]
    pub timeout: u64,

    /// Report format. Repeat with --output to write several formats in one run: the n-th
    /// --output receives the n-th --format; a format without its --output goes to standard
    /// output.
    #[arg(long, value_enum, default_values_t = [ReportFormat::Text])]
    pub format: Vec<ReportFormat>,
    /// Write the report to this file instead of standard output (see --format).
    #[arg(long, value_name = "FILE")]
    pub output: Vec<PathBuf>,
    /// Exit 1 on warnings too (`warn`), or only on failures (`fail`, the default).
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// Run only these checks (comma-separated IDs).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub only: Vec<String>,
    /// Skip these checks (comma-separated IDs).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub skip: Vec<String>,
    /// Require these checks (comma-separated IDs): one that cannot run (`skip`) fails the run
    /// (exit 1) with what it needs, instead of being skipped.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub require: Vec<String>,
    /// Save everything gathered to FILE (a support bundle), to replay with --facts.
    #[arg(long, value_name = "FILE")]
    pub save_facts: Option<PathBuf>,
    /// Judge the facts saved in FILE (by --save-facts) instead of gathering them; gives the
    /// report of the run that saved them.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "offline", "save_facts"])]
    pub facts: Option<PathBuf>,
    /// Replace account IDs, key IDs and external IDs with placeholders in every output
    /// (reports and saved facts), consistently within the run.
    #[arg(long)]
    pub redact: bool,
    /// Live mode: list every AWS request on standard error after the run — the operation,
    /// what it asked about, AWS's answer, its place in the chain of requests that wait on
    /// each other, and how long it took.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Text and Markdown: leave out the checks that passed (the access path, "What to fix" and
    /// every other check stay).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Also run the end-to-end write probe (writes and deletes a test object).
    #[arg(long)]
    pub probe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimulateFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Identity policy files (repeatable). Optional when --resource-policy or
    /// --permissions-boundary is given: the principal then has no identity policy.
    #[arg(
        long = "policy",
        value_name = "FILE",
        required_unless_present_any = ["resource_policy", "permissions_boundary", "scps", "rcps"]
    )]
    pub policies: Vec<PathBuf>,
    /// Permissions boundary policy file.
    #[arg(long, value_name = "FILE")]
    pub permissions_boundary: Option<PathBuf>,
    /// Resource policy file (bucket policy, key policy, trust policy).
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// A service control policy of the principal's organization, at its level: LEVEL is
    /// `root` (the default), `ou:PATH` (OU names from the root) or `account`; the levels lead
    /// to the principal's account. Every level keeps FullAWSAccess unless an SCP given there
    /// has an Allow. Repeatable.
    #[arg(long = "scp", value_name = "[LEVEL=]FILE", value_parser = OrgPolicyFile::parse)]
    pub scps: Vec<OrgPolicyFile>,
    /// A resource control policy, at its level (as for --scp); the levels lead to the
    /// resource's account. Repeatable.
    #[arg(long = "rcp", value_name = "[LEVEL=]FILE", value_parser = OrgPolicyFile::parse)]
    pub rcps: Vec<OrgPolicyFile>,
    /// The organization's management account, which SCPs and RCPs do not limit.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub org_management_account: Option<String>,
    /// The calling principal's ARN.
    #[arg(long, value_name = "ARN", required_unless_present = "requests")]
    pub principal: Option<String>,
    /// The action, e.g. `s3:GetObject`.
    #[arg(long, value_name = "ACTION", required_unless_present = "requests")]
    pub action: Option<String>,
    /// The resource ARN, or `*` for an action that takes no resource (s3:ListAllMyBuckets,
    /// kms:ListKeys, kms:ListAliases, kms:CreateKey, kms:GenerateRandom, iam:ListRoles,
    /// iam:ListPolicies).
    #[arg(long, value_name = "ARN", required_unless_present = "requests")]
    pub resource: Option<String>,
    /// The account that owns the resource (default: from the resource ARN, else the
    /// principal's account).
    #[arg(long, value_name = "ID")]
    pub resource_account: Option<String>,
    /// A context key and value; repeat a key for a multi-valued key.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Many requests against the same policies, loaded once: a JSON Lines file (`-` for
    /// standard input), one request per line, e.g. `{"principal": ARN, "action": "s3:GetObject",
    /// "resource": ARN, "resourceAccount": ID, "context": {"aws:SecureTransport": "true",
    /// "s3:prefix": ["a/", "b/"]}}` (`resourceAccount` and `context` optional). One answer per
    /// line: `--format json` gives JSON Lines, text a tab-separated table.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["principal", "action", "resource", "resource_account", "context"]
    )]
    pub requests: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SimulateFormat::Text)]
    pub format: SimulateFormat,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct ChecksArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = SimulateFormat::Text)]
    pub format: SimulateFormat,
}

/// `explain`'s own flags, and the attachment as for `check`: `--run` judges it, and the `check`
/// command explain suggests names it. Only the `check` flags that bear on those two are here;
/// explain picks the checks and writes its own output, so `--only`, `--output`, `--save-facts`,
/// `--redact`, `--jobs`, `--verbose` and `--probe` do not exist for it.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The error message as you saw it, in quotes (standard input when absent or `-`).
    #[arg(value_name = "MESSAGE", allow_hyphen_values = true, value_parser = message_not_option)]
    pub message: Option<String>,
    /// Run the checks that confirm the causes on the attachment given (as for `check`), and
    /// say which cause they confirm. The exit code is then that of the checks.
    #[arg(long)]
    pub run: bool,

    #[command(flatten)]
    pub input: InputArgs,
    /// Overall time limit for live mode, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECONDS)]
    pub timeout: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SimulateFormat::Text)]
    pub format: SimulateFormat,
    /// With --run: exit 1 on warnings too (`warn`), or only on failures (`fail`, the default).
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// With --run: skip these checks (comma-separated IDs).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub skip: Vec<String>,
    /// Judge the facts saved in FILE (by `check --save-facts`) instead of gathering them.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "offline"])]
    pub facts: Option<PathBuf>,
}

/// A message may start with a dash (a list item in a log), so the message argument takes
/// hyphen values; a single `--word`, though, is an option explain does not have (`--redact`
/// with the message on standard input), and explaining it as a message would hide the mistake.
fn message_not_option(value: &str) -> Result<String, String> {
    if value.len() > 2 && value.starts_with("--") && !value.contains(char::is_whitespace) {
        Err("explain has no such option (see --help); give an error message in quotes".into())
    } else {
        Ok(value.to_string())
    }
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// A TOML file with one or more `[[attachment]]` tables (as for `check`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// With a config file of several attachments, the one to write documents for.
    #[arg(long, value_name = "NAME")]
    pub attachment: Option<String>,

    #[command(flatten)]
    pub attachment_args: AttachmentArgs,

    /// The key ARN, when --kms-key is an alias ARN or a key ID: policies must name the key
    /// ARN (an alias ARN in `Resource` grants nothing), and offline the key behind an alias is
    /// not known.
    #[arg(long, value_name = "ARN")]
    pub key_arn: Option<String>,

    /// How AoC reaches the bucket. `assume-role`: AoC assumes the role, which needs no bucket
    /// policy. `direct`: also the IBM procedure's bucket policy sample, granting AoC's
    /// principal on the bucket (and on the key through S3).
    #[arg(long, value_enum, default_value_t = Model::AssumeRole)]
    pub model: Model,

    /// The KMS actions the role's KMS policy allows. `procedure`: those of the IBM
    /// procedure's sample (the data path's kms:GenerateDataKey and kms:Decrypt, and
    /// kms:Encrypt, kms:GenerateDataKeyWithoutPlaintext, kms:ReEncrypt*, kms:EnableKey).
    /// `data-path`: only kms:GenerateDataKey and kms:Decrypt (`check` then warns that the
    /// procedure's others are missing).
    #[arg(long, value_enum, default_value_t = KmsActions::Procedure)]
    pub kms_actions: KmsActions,

    /// Output format.
    #[arg(long, value_enum, default_value_t = GenerateFormat::Text)]
    pub format: GenerateFormat,

    /// Terraform `aws_iam_policy_document` data sources (same as `--format terraform`).
    #[arg(long, conflicts_with = "format")]
    pub terraform: bool,

    /// Also write each document to DIR/<name>.json (created if needed), for `file://`.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Instead of the documents: the condition an RCP statement that denies AoC's
    /// sts:AssumeRole (an identity perimeter on aws:PrincipalOrgID / aws:PrincipalAccount)
    /// needs to except AoC's principal (aws:PrincipalArn), as a document to merge into that
    /// Deny statement. Needs only AoC's principal (--aoc-principal or --trust-policy); the
    /// explanation goes to standard error, so the output redirected to a file is JSON.
    #[arg(long, conflicts_with_all = ["terraform", "output_dir"])]
    pub rcp_exception: bool,
}

/// How AoC reaches the bucket (docs/aws-facts.md, "S3 Block Public Access").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Model {
    /// AoC assumes the customer's role; S3 sees the role. No bucket policy is needed.
    #[default]
    AssumeRole,
    /// The IBM procedure's bucket policy sample: AoC's principal is granted on the bucket
    /// directly, so S3 (and KMS through S3) also see IBM's principal.
    Direct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum KmsActions {
    #[default]
    Procedure,
    DataPath,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum GenerateFormat {
    /// Each document with a heading and the `aws` command that applies it.
    #[default]
    Text,
    /// One object keyed by document name; each value is a policy document.
    Json,
    /// Terraform `data "aws_iam_policy_document"` blocks.
    Terraform,
}

//! Define CLI errors: a message, an optional hint, and a documented exit code.

use std::fmt;

/// Exit codes (documented in `depin --help` and docs/adr/0009).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Anything else.
    Failure = 1,
    /// Bad usage (clap uses 2 itself).
    Usage = 2,
    /// Not found (account, block, transaction, key).
    NotFound = 3,
    /// Rejected: bad signature, nonce, funds, proof does not verify.
    Rejected = 4,
    /// The node could not be reached.
    Unreachable = 5,
}

/// An error shown to the user.
#[derive(Debug)]
pub struct CliError {
    /// What failed and why.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// Exit code.
    pub exit_code: ExitCode,
}

impl CliError {
    /// A general failure.
    pub fn fail(message: impl fmt::Display) -> CliError {
        CliError { message: message.to_string(), hint: None, exit_code: ExitCode::Failure }
    }

    /// An error with a specific exit code.
    pub fn with_code(exit_code: ExitCode, message: impl fmt::Display) -> CliError {
        CliError { message: message.to_string(), hint: None, exit_code }
    }

    /// Add a hint.
    pub fn hint(mut self, hint: impl fmt::Display) -> CliError {
        self.hint = Some(hint.to_string());
        self
    }
}

impl From<depin_keystore::KeystoreError> for CliError {
    fn from(e: depin_keystore::KeystoreError) -> Self {
        use depin_keystore::KeystoreError as K;
        let code = match &e {
            K::NotFound(_) => ExitCode::NotFound,
            K::EmptyPassword => ExitCode::Usage,
            K::WrongPassword | K::Mismatch => ExitCode::Rejected,
            _ => ExitCode::Failure,
        };
        let hint = match &e {
            K::PasswordRequired => Some("set DEPIN_KEY_PASSWORD or run in a terminal to be prompted"),
            K::PlaintextRefused => Some("plaintext keys are for dev networks: pass --insecure-plaintext"),
            K::InsecurePermissions { .. } => Some("chmod 600 the key file"),
            K::InsecureDirectory { .. } => Some("chmod 700 the keystore directory"),
            K::NotRegularFile { .. } => Some("use the key file itself, not a link to it"),
            K::EmptyPassword => Some("unset DEPIN_KEY_PASSWORD for a plaintext dev key, or set a non-empty password"),
            _ => None,
        };
        CliError { message: e.to_string(), hint: hint.map(str::to_string), exit_code: code }
    }
}

/// Result alias.
pub type CliResult<T = ()> = Result<T, CliError>;

//! Start and stop real `depin` processes for end-to-end tests.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod live;

use std::fs::File;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `depin` binary under test.
pub fn depin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_depin"))
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Remove every `DEPIN_*` variable of the test's environment and `RUST_LOG` from `cmd`, so a
/// child runs on its home's files whatever the developer's shell exports. Variables the caller
/// sets afterwards with `env` still apply.
pub fn clear_depin_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DEPIN_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env_remove("RUST_LOG")
}

/// The first of `n` consecutive loopback ports that are free now (each was bound and released),
/// from a random base in 20000..32000: below Linux's ephemeral range (32768..), so the ports a
/// test binary takes with [`free_port`] or outgoing connections do not collide with them.
pub fn free_port_range(n: u16) -> u16 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut seed = (nanos ^ (u64::from(std::process::id()) << 32)) | 1;
    for _ in 0..500 {
        // xorshift64: a different base per attempt.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let base = 20_000 + (seed % u64::from(12_000 - n)) as u16;
        let free = (base..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no {n} consecutive free loopback ports found in 20000..32000");
}

/// The last `lines` lines of a log file (or why it cannot be read).
pub fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// A `depin up --home HOME` on a home that already exists (its config chooses the ports), with
/// stdout and stderr appended to a log file; killed on drop.
pub struct HomeProcess {
    /// The child.
    pub child: Child,
    /// Home.
    pub home: PathBuf,
    /// Its stdout and stderr, appended across restarts.
    pub log: PathBuf,
}

impl HomeProcess {
    /// Start `depin up --home home` (no waiting) with `DEPIN_LOG_LEVEL=log_level` and no other
    /// `DEPIN_*` variable of the test's environment.
    pub fn start(home: &Path, log: &Path, log_level: &str) -> HomeProcess {
        let mut file = File::options().create(true).append(true).open(log).unwrap();
        writeln!(file, "===== test: depin up --home {} =====", home.display()).unwrap();
        let mut cmd = depin();
        clear_depin_env(&mut cmd)
            .args(["up", "--home"])
            .arg(home)
            .env("DEPIN_LOG_LEVEL", log_level)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let child = cmd.spawn().unwrap();
        HomeProcess { child, home: home.to_path_buf(), log: log.to_path_buf() }
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL and reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HomeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `depin init --dev` into `home`.
pub fn init_dev_home(home: &Path) {
    let out = depin().args(["init", "--dev", "--home"]).arg(home).env_remove("DEPIN_KEY_PASSWORD").output().unwrap();
    assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A running `depin up`; killed on drop.
pub struct NodeProcess {
    /// The child.
    pub child: Child,
    /// API base URL.
    pub url: String,
    /// Home.
    pub home: PathBuf,
}

impl NodeProcess {
    /// Start `depin up` on `port` and wait for /healthz.
    pub fn start(home: &Path, port: u16, block_interval_ms: u64) -> NodeProcess {
        let child = depin()
            .args(["up", "--home"])
            .arg(home)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--block-interval-ms", &block_interval_ms.to_string()])
            .env("DEPIN_LOG_LEVEL", "warn")
            // The node must run on its home's config, whatever the developer's shell exports.
            .env_remove("DEPIN_API_LISTEN")
            .env_remove("DEPIN_API_MAX_BODY_BYTES")
            .env_remove("DEPIN_SEQUENCER_MAX_BLOCK_TXS")
            .env_remove("DEPIN_MEMPOOL_MAX_TXS")
            .env_remove("DEPIN_MEMPOOL_MAX_PER_SENDER")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let node = NodeProcess { child, url: format!("http://127.0.0.1:{port}"), home: home.to_path_buf() };
        node.wait_ready(Duration::from_secs(30));
        node
    }

    fn wait_ready(&self, timeout: Duration) {
        let start = Instant::now();
        let agent = agent();
        while start.elapsed() < timeout {
            if let Ok(r) = agent.get(format!("{}/healthz", self.url)).call()
                && r.status().as_u16() == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("node at {} not ready after {timeout:?}", self.url);
    }

    /// SIGKILL and reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "node did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP agent that returns non-2xx answers instead of errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// GET a JSON document.
pub fn get_json(agent: &ureq::Agent, url: &str) -> Result<(u16, serde_json::Value), ureq::Error> {
    let mut r = agent.get(url).call()?;
    let status = r.status().as_u16();
    let v = r.body_mut().read_json().unwrap_or(serde_json::Value::Null);
    Ok((status, v))
}

/// POST JSON.
pub fn post_json(agent: &ureq::Agent, url: &str, body: &serde_json::Value) -> Result<(u16, serde_json::Value), ureq::Error> {
    let mut r = agent.post(url).header("content-type", "application/json").send(body.to_string())?;
    let status = r.status().as_u16();
    let v = r.body_mut().read_json().unwrap_or(serde_json::Value::Null);
    Ok((status, v))
}

/// The password every encrypted test key uses (`DEPIN_KEY_PASSWORD`).
pub const PASSWORD: &str = "test-password";

/// Run `depin ARGS --home HOME` with `node` as the node URL and the test password set; the
/// caller's `DEPIN_*` variables never leak in.
pub fn run(home: &Path, node: &str, args: &[&str]) -> Output {
    depin()
        .args(args)
        .arg("--home")
        .arg(home)
        .env("DEPIN_NODE", node)
        .env("DEPIN_KEY_PASSWORD", PASSWORD)
        .env_remove("DEPIN_OUTPUT")
        .env_remove("DEPIN_HOME")
        .output()
        .expect("the depin binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Assert the exit code and return stdout.
#[track_caller]
pub fn expect_code(out: &Output, code: i32, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[track_caller]
pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

//! Start the node in the foreground (`depin up`) until Ctrl-C or SIGTERM.

use std::time::Duration;

use depin_api::ApiLimits;
use depin_consensus::identity::consensus_signer;
use depin_node::config::ConsensusMode;
use depin_node::{init_home, read_node_key, InitOptions, Node};
use tracing_subscriber::EnvFilter;

use crate::cli::UpArgs;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult};

/// Run `depin up`.
pub fn run(ctx: &Ctx, args: &UpArgs) -> CliResult {
    if !ctx.home.is_initialized() {
        if !args.dev {
            return Err(CliError::fail(format!("{} has no genesis.toml", ctx.home.root().display()))
                .hint("run `depin init` (or `depin up --dev` for a local dev network)"));
        }
        let opts = InitOptions {
            dev: true,
            dev_password: std::env::var("DEPIN_KEY_PASSWORD").ok().map(String::into_bytes),
            ..InitOptions::default()
        };
        init_home(&ctx.home, &opts).map_err(CliError::fail)?;
        println!("created a dev home in {}", ctx.home.root().display());
    }
    let mut config = ctx.config()?;
    if let Some(listen) = args.listen {
        config.api.listen = listen;
    }
    if let Some(ms) = args.block_interval_ms {
        config.sequencer.block_interval_ms = ms;
    }
    config.validate().map_err(CliError::fail)?;
    init_logging(&config.log.level, &config.log.format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("depin-api")
        .build()
        .map_err(CliError::fail)?;
    let listen_overridden = ctx.config()?.api.listen != config.api.listen;
    runtime.block_on(serve(ctx, config, listen_overridden))
}

async fn serve(ctx: &Ctx, config: depin_node::NodeConfig, args_listen_overridden: bool) -> CliResult {
    let limits = ApiLimits { max_body_bytes: config.api.max_body_bytes, ..ApiLimits::default() };
    let listen = config.api.listen;
    let encrypted = depin_keystore::KeyFile::read(&ctx.home.node_key()).map(|f| f.is_encrypted()).unwrap_or(false);
    let password = if encrypted { Some(crate::cmd::password("Node key password: ", false)?) } else { None };
    let bft = config.consensus.mode == ConsensusMode::Bft;
    let consensus_cfg = config.consensus.clone();
    let key = read_node_key(&ctx.home, password.as_deref()).map_err(CliError::fail)?;
    let signer = if bft { Some(consensus_signer(&key).map_err(CliError::fail)?) } else { None };
    let node = Node::open_with_key(&ctx.home, config, key).map_err(CliError::fail)?;
    if !bft && node.chain().genesis().is_replicated() {
        return Err(CliError::fail("this genesis lists validators with p2p addresses, but [consensus] mode is \"single\"")
            .hint("set mode = \"bft\" in config.toml (or DEPIN_CONSENSUS_MODE=bft): a replicated chain sequenced alone would fork"));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::fail(format!("cannot listen on {listen}: {e}")).hint("pass --listen 127.0.0.1:PORT"))?;
    let status = node.status().map_err(CliError::fail)?;
    // One sequencer: the local one, or the validators' consensus.
    let (sequencer, validator) = match signer {
        None => (Some(node.start_sequencer()), None),
        Some(signer) => {
            let storage = ctx.home.ledger().join("consensus");
            let v = depin_consensus::validator::start(node.clone(), signer, &consensus_cfg, storage).map_err(CliError::fail)?;
            (None, Some(v))
        }
    };
    let telemetry = node.start_telemetry();
    // Prunes raw telemetry past [telemetry] retain_epochs; no thread when it is 0 (archive).
    let retention = node.start_retention();
    println!("depin node up");
    println!("  chain      {} (height {})", status.chain_id, status.height);
    println!("  api        http://{listen}/api/v1/status");
    println!("  metrics    http://{listen}/metrics");
    println!("  home       {}", ctx.home.root().display());
    if bft {
        println!("  consensus  bft, p2p {} ({} validators)", consensus_cfg.p2p_listen, status_validators(&node));
    }
    // Other commands find the node through the home's config; say how if --listen moved it.
    let node_flag = if args_listen_overridden { format!(" --node http://{listen}") } else { String::new() };
    if let Ok(ks) = ctx.keystore()
        && let Ok(dev) = ks.get("dev")
    {
        println!("  dev key    {} (try: depin query account dev{node_flag})", dev.address());
    }
    tracing::info!(%listen, chain = %status.chain_id, height = status.height, "node started");
    let watched = node.clone();
    let shutdown = async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("invariant: a SIGTERM handler can be installed");
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => { tracing::info!("interrupted; shutting down"); break }
                _ = term.recv() => { tracing::info!("terminated; shutting down"); break }
                _ = tick.tick() => if watched.is_stopping() { break },
            }
        }
    };
    let router = depin_api::router(node.clone(), limits);
    depin_api::serve(listener, router, shutdown).await.map_err(CliError::fail)?;
    // Reports accepted at the edge go to the mempool before the sequencer stops.
    node.flush_telemetry(true);
    if let Some(v) = validator {
        v.stop();
    }
    if let Some(sequencer) = sequencer {
        sequencer.stop().map_err(|e| CliError::fail(format!("the sequencer stopped on a fault: {e}")))?;
    }
    node.request_stop();
    telemetry.join();
    retention.join();
    println!("depin node stopped at height {}", node.status().map(|s| s.height).unwrap_or(0));
    Ok(())
}

fn status_validators(node: &Node) -> usize {
    node.chain().genesis().validators.len()
}

fn init_logging(level: &str, format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

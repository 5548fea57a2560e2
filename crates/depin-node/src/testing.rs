//! Start a real node in a temporary home for tests: real redb, real keys, real sequencer.

use depin_keystore::Kdf;
use depin_types::SecretKey;

use crate::config::NodeConfig;
use crate::home::{init_home, Home, InitOptions};
use crate::node::Node;
use crate::sequencer::SequencerHandle;

/// A node running in a temporary directory, with a funded dev account. Stops on drop.
pub struct TestNode {
    /// The node.
    pub node: Node,
    /// The funded dev account's key.
    pub dev_key: SecretKey,
    /// The home.
    pub home: Home,
    sequencer: Option<SequencerHandle>,
    dir: Option<tempfile::TempDir>,
}

impl TestNode {
    /// Start with a 20 ms block interval.
    pub fn start() -> TestNode {
        let mut config = NodeConfig::default();
        config.sequencer.block_interval_ms = 20;
        config.sequencer.empty_block_interval_ms = 0;
        TestNode::start_with(config)
    }

    /// Start with a given configuration.
    pub fn start_with(config: NodeConfig) -> TestNode {
        let dir = tempfile::tempdir().expect("test: temp dir");
        let home = Home::new(dir.path().join("home"));
        let opts = InitOptions { dev: true, kdf: Kdf::fast_for_tests(), ..InitOptions::default() };
        init_home(&home, &opts).expect("test: init home");
        let dev_file = depin_keystore::Keystore::open(home.keys())
            .and_then(|k| k.get("dev"))
            .expect("test: dev key file");
        let dev_key = dev_file.decrypt(None, true).expect("test: dev key");
        let node = Node::open(&home, config, None).expect("test: open node");
        let sequencer = Some(node.start_sequencer());
        TestNode { node, dev_key, home, sequencer, dir: Some(dir) }
    }

    /// Stop the node (closing its database) and open it again from the same home, as a
    /// process restart would. Any other clone of the old `Node` must be dropped first.
    pub fn restart(mut self) -> TestNode {
        self.stop_sequencer();
        let dir = self.dir.take();
        let home = self.home.clone();
        let dev_key = SecretKey::from_seeds(self.dev_key.scheme(), self.dev_key.seeds()).expect("test: key copy");
        let config = self.node.config().clone();
        drop(self);
        let node = Node::open(&home, config, None).expect("test: reopen node");
        let sequencer = Some(node.start_sequencer());
        TestNode { node, dev_key, home, sequencer, dir }
    }

    /// Stop the sequencer (the node keeps answering reads).
    pub fn stop_sequencer(&mut self) {
        if let Some(s) = self.sequencer.take() {
            s.stop().expect("test: sequencer stopped cleanly");
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.stop_sequencer();
    }
}

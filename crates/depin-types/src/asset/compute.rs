//! Compute assets: CPU cores, memory, GPUs by model and count, architecture.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::kv::{Fields, Problem};
use super::ResourceUnit;

/// Most GPU models listed on one compute asset.
pub const MAX_GPU_MODELS: usize = 8;
/// Longest GPU model name.
pub const MAX_GPU_MODEL_LEN: usize = 32;

/// CPU architecture. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86-64.
    X86_64,
    /// 64-bit Arm.
    Aarch64,
    /// 64-bit RISC-V.
    Riscv64,
}

/// GPUs of one model.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpus {
    /// Model, lowercase `a-z 0-9 - _ .` (e.g. `h100`, `rtx-4090`).
    pub model: String,
    /// How many, 1 to 64.
    pub count: u32,
}

/// What a compute asset offers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeCapacity {
    /// CPU cores (threads offered), 1 to 4096.
    pub cpu_cores: u32,
    /// Memory in MiB, 256 MiB to 64 TiB.
    pub memory_mib: u64,
    /// GPUs by model (at most [`MAX_GPU_MODELS`] models, each listed once).
    pub gpus: Vec<Gpus>,
    /// CPU architecture.
    pub arch: Arch,
}

/// Telemetry a compute asset reports.
pub const METRICS: &[&str] = &["uptime_s", "cpu_load_permille", "memory_used_mib", "gpu_load_permille", "jobs_done"];
/// What a compute asset sells.
pub const UNITS: &[ResourceUnit] = &[ResourceUnit::VcpuEpoch, ResourceUnit::MemoryGibEpoch, ResourceUnit::GpuEpoch];

impl ComputeCapacity {
    /// Check ranges (rule R-2).
    pub fn validate(&self) -> Result<(), Problem> {
        Problem::range("cpu_cores", self.cpu_cores.into(), 1, 4096)?;
        Problem::range("memory_mib", self.memory_mib, 256, 64 << 20)?;
        if self.gpus.len() > MAX_GPU_MODELS {
            return Err(Problem::TooMany { field: "gpus".into(), max: MAX_GPU_MODELS as u64 });
        }
        for (i, g) in self.gpus.iter().enumerate() {
            Problem::name("gpu model", &g.model, MAX_GPU_MODEL_LEN)?;
            Problem::range("gpu count", g.count.into(), 1, 64)?;
            if self.gpus[..i].iter().any(|o| o.model == g.model) {
                return Err(Problem::Duplicate { field: "gpus".into(), value: g.model.clone() });
            }
        }
        Ok(())
    }

    /// From `cpu_cores=…, memory_mib=…, arch=…, gpu=MODEL:COUNT` (`gpu` repeatable).
    pub fn from_fields(f: &mut Fields) -> Result<ComputeCapacity, Problem> {
        let cpu_cores = f.number("cpu_cores")?;
        let memory_mib = f.number("memory_mib")?;
        let arch = f.choice("arch", &[("x86_64", Arch::X86_64), ("aarch64", Arch::Aarch64), ("riscv64", Arch::Riscv64)])?;
        let mut gpus = Vec::new();
        for v in f.all("gpu") {
            let (model, count) = v.split_once(':').ok_or_else(|| Problem::Malformed {
                field: "gpu".into(),
                expected: "MODEL:COUNT, e.g. h100:8".into(),
            })?;
            let count = count.parse().map_err(|_| Problem::Malformed { field: "gpu".into(), expected: "a count after ':'".into() })?;
            gpus.push(Gpus { model: model.to_string(), count });
        }
        Ok(ComputeCapacity { cpu_cores, memory_mib, gpus, arch })
    }
}

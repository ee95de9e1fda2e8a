//! `monban demo` (to be completed)
pub struct DemoOptions { pub listen: std::net::SocketAddr, pub data_dir: std::path::PathBuf, pub speed: f64, pub seed: u64 }
pub async fn run(_o: DemoOptions, _s: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> { anyhow::bail!("not yet") }

//! `qiping init`: write a commented configuration with a fresh link secret.

use std::path::PathBuf;

use anyhow::bail;
use base64::Engine;
use rand::RngExt;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write the file.
    #[arg(long, default_value = "qiping.toml")]
    pub output: PathBuf,
    /// Overwrite an existing file (its link secret is lost, and with it every link already sent).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    if args.output.exists() && !args.force {
        bail!(
            "{} 已存在;如确需覆盖(原有问卷链接将全部失效),请加 --force",
            args.output.display()
        );
    }
    let secret: [u8; 32] = rand::rng().random();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    std::fs::write(&args.output, crate::config::init_file(&secret))?;
    eprintln!("已写入 {}(含新生成的链接密钥)", args.output.display());
    Ok(())
}

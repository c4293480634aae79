//! The confirmation of an irreversible command (issue 43): what it will do, in numbers, then a
//! question on a terminal. Without a terminal (a script, a pipe) it refuses, changing nothing,
//! unless `--yes` was given.

use std::io::{BufRead, IsTerminal, Write};

/// Prints `what` (one line each) and asks; `Ok` to go on. `action` names the step in the
/// question and the refusal (开始评议, 截止评议, …).
pub fn confirm(yes: bool, action: &str, what: &[String]) -> anyhow::Result<()> {
    for line in what {
        eprintln!("{line}");
    }
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "未确认,未作任何改动:{action}不可撤销。在终端上运行会询问确认;在脚本中请加 --yes"
        );
    }
    eprint!("确认{action}?输入 y 回车继续,其他输入取消:");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "是") {
        Ok(())
    } else {
        anyhow::bail!("已取消{action},未作任何改动")
    }
}

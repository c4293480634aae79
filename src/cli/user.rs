//! `qiping user add|passwd|disable|token|list`. Passwords are read from the terminal (without
//! echo) or, with `--password-stdin` or when stdin is not a terminal, from the first line of
//! stdin — never from the command line, where `ps` and shell history would show them.

use std::io::{BufRead, IsTerminal};

use anyhow::bail;
use clap::Subcommand;
use comfy_table::Table;

use super::{Context, print_json};
use crate::domain::{Role, Secret};
use crate::service::accounts;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account: admin (营商办), inspector (纪委监委) or unit (a unit viewer, with --unit).
    Add {
        name: String,
        #[arg(long)]
        role: Role,
        /// The unit a unit viewer sees (with those under it).
        #[arg(long, value_name = "CODE")]
        unit: Option<String>,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the user's sessions, lifts a lock).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account; its sessions and API tokens stop working at once.
    Disable { name: String },
    /// Issue an API token (printed once; only its hash is stored).
    Token {
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        expires: i64,
    },
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Role::Admin, Role::Inspector, Role::Unit]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<Secret> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(Secret::new(line.trim_end_matches(['\r', '\n'])));
    }
    let first = Secret::new(rpassword::prompt_password("密码: ")?);
    let second = Secret::new(rpassword::prompt_password("再次输入密码: ")?);
    if first != second {
        bail!("两次输入的密码不一致");
    }
    Ok(first)
}

pub fn run(ctx: &Context, command: UserCommand) -> anyhow::Result<()> {
    let actor = &ctx.actor;
    match command {
        UserCommand::Add {
            name,
            role,
            unit,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let mut conn = ctx.connect()?;
            accounts::add_user(&mut conn, actor, &name, role, unit.as_deref(), &password)?;
            eprintln!("已创建用户 {name}({})", role.label());
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            accounts::set_password(&mut ctx.connect()?, actor, &name, &password)?;
            eprintln!("已为 {name} 设置新密码,其现有会话已失效");
        }
        UserCommand::Disable { name } => {
            accounts::disable_user(&mut ctx.connect()?, actor, &name)?;
            eprintln!("已停用用户 {name},其会话与 API 令牌已失效");
        }
        UserCommand::Token { name, expires } => {
            let token = accounts::create_token(&mut ctx.connect()?, actor, &name, expires)?;
            eprintln!("{name} 的 API 令牌({expires} 天内有效;只显示这一次,请妥善保存):");
            println!("{}", token.expose());
        }
        UserCommand::List { json } => {
            let users = accounts::list_users(&mut ctx.connect()?)?;
            if json {
                return print_json(&users);
            }
            let mut table = Table::new();
            table.set_header(["用户名", "角色", "单位", "状态", "创建时间"]);
            for u in &users {
                table.add_row([
                    u.name.clone(),
                    u.role.clone(),
                    u.unit_code.clone().unwrap_or_default(),
                    if u.disabled { "已停用" } else { "正常" }.to_owned(),
                    crate::domain::time::show(u.created_at),
                ]);
            }
            println!("{table}\n共 {} 个用户", users.len());
        }
    }
    Ok(())
}

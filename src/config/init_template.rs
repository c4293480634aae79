//! The commented `qiping.toml` that `qiping init` writes: every key with its default.

/// The file's text, with the generated link secret filled in.
pub fn init_file(link_secret: &str) -> String {
    format!(
        r#"# qiping (企评) 配置文件 — configuration.
# 每个键都列出了默认值;环境变量 QIPING_* 会覆盖这里的值(见 README「配置」)。
# Every key is shown with its default; QIPING_* environment variables override it.

# 数据库地址: sqlite://文件路径(内嵌默认)或 postgres://用户:密码@主机/库名
# Database: sqlite://PATH (embedded default) or postgres://user:password@host/db
database_url = "sqlite://qiping.db"

# 问卷链接密钥:链接由它派生,数据库只存链接的哈希。请妥善保管,勿提交到版本库。
# 更换密钥会使所有已发出的链接失效。
# Survey links are derived from this secret; the database stores only their hashes.
# Keep it private; changing it kills every link already sent.
link_secret = "{link_secret}"

# 问卷模板目录(NAME.toml);内置模板 standard 总是可用。
# Folder of survey templates; the built-in `standard` is always available.
templates_dir = "survey_templates"

# 公布的报告写入此目录下的 PERIOD/。
# Published reports are written to PERIOD/ below this folder.
reports_dir = "reports"

[server]
# qiping serve 监听的地址。Address `qiping serve` listens on.
bind = "127.0.0.1:8080"
# 站点对外地址,用于邮件中的问卷链接 {{base_url}}/s/{{token}}。
# Public address of the site, used in the emailed survey links.
base_url = "http://127.0.0.1:8080"
# 每个 serve 进程的数据库连接数。Database connections per serve process.
pool_size = 8

[auth]
# 会话空闲多少分钟后失效。A session ends after this many idle minutes.
session_idle_minutes = 30
# 登录后多少小时会话必定失效。A session ends this many hours after sign-in.
session_absolute_hours = 12
# 连续输错密码多少次后锁定账号。Wrong passwords in a row before the account is locked.
max_failed_logins = 5
# 账号锁定多少分钟。How long a locked account stays locked.
lockout_minutes = 15
# 同一地址每 15 分钟允许的登录失败次数。Failed sign-ins per client address per 15 minutes.
max_failures_per_address = 20

[retention]
# 个人信息(企业联系邮箱、问题反映人姓名与联系方式)保留天数,过期由 qiping purge 删除。
# Days personal data is kept; `qiping purge` deletes it after that (see README).
personal_data_days = 730

[log]
# 日志过滤器,例如 "info" 或 "qiping=debug"。口令与令牌永不写入日志。
# Log filter such as "info" or "qiping=debug". Passwords and tokens are never logged.
filter = "info"
"#
    )
}

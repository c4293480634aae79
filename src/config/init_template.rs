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

[log]
# 日志过滤器,例如 "info" 或 "qiping=debug"。口令与令牌永不写入日志。
# Log filter such as "info" or "qiping=debug". Passwords and tokens are never logged.
filter = "info"

[mail]
# SMTP 服务器;不设置时邮件写成 .eml 文件放到 outbox_dir(默认,不会真的发出)。
# SMTP relay; without it every message is written as an .eml file to outbox_dir (the default).
# smtp_host = "smtp.example.gov.cn"
smtp_port = 587
# none | starttls | tls(465 端口的隐式 TLS)。Connection security.
tls = "starttls"
# 登录用户名与口令(口令永不写入日志)。SMTP login; the password is never logged.
# username = "yingshang@example.gov.cn"
# password = "..."
# 发件人;企业反映链接问题时回复到此地址。Sender; link problems are replied to it.
from_address = "noreply@example.org"
from_name = "营商环境办公室"
outbox_dir = "outbox"
# 每秒最多发送的邮件数,0 表示不限。Messages per second; 0 means no limit.
rate_per_second = 10.0
# 每次从数据库领取的邮件数。Messages claimed per database round trip.
batch_size = 100
# 临时失败(4xx、连接中断)最多尝试次数,重试间隔从 backoff_seconds 起逐次加倍。
# Attempts for transient failures (4xx, lost connection); the wait doubles from backoff_seconds.
max_attempts = 5
backoff_seconds = 60
# 保持的 SMTP 连接数。SMTP connections kept in the pool.
pool_size = 4
# serve 内置发送任务的轮询间隔(秒)。How often the dispatcher inside serve looks for mail.
poll_seconds = 30

[reminders]
# 活动开始后第几天向未作答的企业发送提醒。Days after opening on which reminders go out.
days = [7, 12]
# 每家企业最多提醒次数。At most this many reminders per enterprise.
max_per_enterprise = 2
# 两封邮件之间至少间隔的天数。At least this many days between two messages to one enterprise.
min_gap_days = 3
"#
    )
}

//! The commented `qiping.toml` that `qiping init` writes: every key with its default.

/// The file's text, with the generated link secret filled in.
pub fn init_file(link_secret: &str) -> String {
    let calendar = super::calendar::init_section();
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
# 请求等待数据库连接的最长秒数,超时即答复 503(请稍后重试);数据库停机时,每个请求约在此时限后失败。
# Seconds a request waits for a database connection before it is answered 503 (retry); while the
# database is down, each request fails after about this long.
pool_timeout_seconds = 10
# 每个客户端地址每分钟可访问问卷页面与提交接口的次数(每个进程单独计数);0 表示不限制。
# 同一出口地址后可能有多家企业(运营商 NAT),请勿设得过低。
# Requests per minute per client address to /s/… and /api/v1/responses, counted per process;
# 0 turns the limit off. Many enterprises may share one address behind carrier NAT.
submit_rate_per_minute = 120
# 受信任的反向代理(地址或网段,例如 ["10.0.0.5", "10.0.0.0/24"]):来自它们的请求按
# X-Forwarded-For 中代理转发的客户地址计数(限流、登录限制与审计日志),并按 X-Forwarded-Proto 设置
# Secure Cookie;来自其他地址的这些请求头一律不予采信。留空:不采信任何转发请求头。
# Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For / Forwarded and
# X-Forwarded-Proto headers are believed; from any other address they are ignored.
trusted_proxies = []

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

[weighting]
# 新建评议活动默认是否加权(默认否):加权即按规模、行业、区县把答卷者校准到受邀企业的构成。
# 每期可在创建时另行指定(campaign create --weighted / --unweighted),并记录在活动上。
# Whether a new campaign is weighted by default (raking respondents to the invited population by
# size, industry, district); `campaign create --weighted | --unweighted` chooses per campaign.
enabled = false

[close]
# 截止时一次在内存中打乱的答卷量(按密封答卷的大小计,MiB)。超出时,开启后的答案分桶暂存在
# 临时文件中,以仅存于内存、截止后即销毁的临时密钥加密;全省百万份答卷也只占有限内存。
# How much of the ballots' sealed size the close shuffles in memory at once (MiB); above it the
# opened answers wait in scratch files sealed under a key held only in memory.
memory_mib = 256
# 暂存文件的目录(默认系统临时目录,TMPDIR)。全省规模约需与评价数据等量的空间。
# Where those files go (default: the system's temporary folder, TMPDIR).
# scratch_dir = "/var/lib/qiping/tmp"

# 统计方法的阈值与开关,各项含义与默认值见 docs/method.md §8。修改后请在报告中说明。
# The method's thresholds and switches; docs/method.md §8 explains each and its default.
[stats]
# n ≥ 10 且有效样本量 ≥ 10 才公布得分,否则显示「样本不足」。
min_published_n = 10
min_published_n_eff = 10.0
# n ≥ 30 才参与排名、收缩估计和问责提示。Ranked and flaggable from this n.
min_eligible_n = 30
# 合格单位少于此数的排名组使用全体汇总的 τ²。Groups smaller than this take the pooled τ².
min_units_own_tau2 = 10
# 公布名次依据:"shrunken"(收缩后得分)或 "raw"(原始得分)。
rank_by = "shrunken"
# 名次模拟次数 R。Rank simulation draws.
draws = 10000
# 「后五位」的 N,以及「连续两次」的 K。
bottom_n = 5
consecutive = 2
# 两次均处于后五位的概率都 ≥ 此值(且 τ² > 0)时,问责提示为「可信」。
credible_probability = 0.8
# 企业自行添加的单位是否计入。Count units an enterprise added itself.
include_self_selected = true

[stats.raking]
tolerance = 0.000001
max_rounds = 50
trim_low = 0.3
trim_high = 3.0
min_category = 20
max_trim_cycles = 10
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
# 一次提交中领取、随后发送的邮件数:每组只写一次盘。发送进程中途被终止时,最多这么多封"结果未知"
# (标为失败、不会重发,可重新发放链接)。1 最严格。
# Messages claimed per commit before sending: one disk sync per group; a dispatcher killed
# mid-group leaves at most this many messages in doubt (marked failed, never re-sent). 1 is strictest.
claim_group = 8
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

[problems]
# 问题交办后责任单位的办理时限(工作日)。Working days a unit has after a problem is assigned.
deadline_working_days = 15
# 逾期后一次督办(企业服务中心)给出的新时限。New deadline of the first supervision.
first_supervision_working_days = 10
# 仍逾期或企业不认可时二次督办(营商办)的新时限;再逾期则移交纪委监委问责。
# New deadline of the second supervision; after it the problem goes to the inspectors.
second_supervision_working_days = 5
# 单位答复后企业确认是否解决的期限;逾期未反馈视为办结。
# Working days the enterprise has to confirm; without a reply the problem is closed as no_reply.
confirm_working_days = 5

[calendar]
# 工作日历:法定节假日(放假)与调休上班的周末。默认为国务院办公厅 2025 年 11 月 4 日公布的
# 2026 年安排;每年公布新安排后请补充到这里,否则期限按普通周末计算(sweep 会提示)。
# Public holidays (off) and weekend make-up working days (on); the default is 2026's official
# schedule. Add each new year's when it is announced.
{calendar}"#
    )
}

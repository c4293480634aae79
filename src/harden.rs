//! What a process that holds answers or a ballot key does to itself first: no core dump, no
//! `ptrace` attach or `/proc/PID/mem` read by another process of the same user.
//!
//! `serve` holds every answer it receives in memory until it is sealed and stored, and (with the
//! sealed ballots) the close holds the campaign's private key and every opened ballot. A core
//! dump written after a crash, or a debugger attached by someone who can run commands as the
//! same user, would keep or read them. So these processes set `RLIMIT_CORE` to 0 (soft and hard:
//! it cannot be raised again) and `PR_SET_DUMPABLE` to 0, which also makes `/proc/PID/mem`,
//! `environ` and the like unreadable to other processes of the user and refuses their
//! `ptrace`. Root (or `CAP_SYS_PTRACE`) can still attach: this protects against the operator's
//! colleagues and tools, not against the machine's administrator (the README's guarantee says so).

/// Turns core dumps and same-user debugging off for this process. On systems other than Linux
/// it does nothing and says so in the returned text.
pub fn no_core_dumps() -> std::io::Result<&'static str> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{
            DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit,
        };
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )?;
        set_dumpable_behavior(DumpableBehavior::NotDumpable)?;
        Ok("core dumps off, not dumpable")
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok("core dumps not changed (not Linux)")
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::process::{DumpableBehavior, Resource, dumpable_behavior, getrlimit};

    #[test]
    fn the_process_can_no_longer_dump_or_be_attached() {
        super::no_core_dumps().expect("harden");
        let core = getrlimit(Resource::Core);
        assert_eq!((core.current, core.maximum), (Some(0), Some(0)));
        assert_eq!(
            dumpable_behavior().expect("prctl"),
            DumpableBehavior::NotDumpable
        );
    }
}

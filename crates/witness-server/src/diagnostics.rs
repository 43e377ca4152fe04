//! The diagnostic report: a plain-text summary an admin can attach to a support request.
//! It never contains the secret key, passwords, session tokens or API keys: it is built only
//! from figures, paths, settings and log lines that are masked as they are kept.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::state::AppState;
use crate::telemetry;

/// The section headings, in order (tests check each is present).
pub const SECTIONS: [&str; 10] = [
    "Version and build",
    "Host",
    "Uptime",
    "Storage",
    "Ingestion",
    "Auditing",
    "Backups",
    "Settings",
    "Integrity",
    "Recent warnings and errors",
];

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn optional_time(at: Option<DateTime<Utc>>, none: &str) -> String {
    at.map(time).unwrap_or_else(|| none.to_string())
}

pub fn human_duration(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (hours, rest) = (rest / 3600, rest % 3600);
    let (minutes, seconds) = (rest / 60, rest % 60);
    if days > 0 {
        format!("{days}d {hours}h {minutes}m {seconds}s")
    } else if hours > 0 {
        format!("{hours}h {minutes}m {seconds}s")
    } else {
        format!("{minutes}m {seconds}s")
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64;
    let mut unit = "bytes";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{bytes} bytes ({value:.1} {unit})")
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_string())
}

fn operating_system() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|value| value.trim_matches('"').to_string())
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|text| text.trim().to_string());
    let mut text = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    if let Some(pretty) = pretty {
        text = format!("{pretty} ({text})");
    }
    if let Some(kernel) = kernel {
        let _ = write!(text, ", kernel {kernel}");
    }
    text
}

/// `https://user:secret@host` → `https://…@host`, so credentials in a target URL never show.
fn mask_userinfo(target: &str) -> String {
    if let Some((scheme, rest)) = target.split_once("://") {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{scheme}://…@{}", &rest[at + 1..]);
        }
    }
    target.to_string()
}

fn heading(out: &mut String, title: &str) {
    let _ = write!(out, "\n== {title} ==\n");
}

/// Builds the whole report. Each section that cannot be filled says why instead of failing
/// the report.
pub async fn report(state: &AppState) -> String {
    let now = Utc::now();
    let mut out = String::new();
    let _ = writeln!(out, "Witness diagnostic report");
    let _ = writeln!(out, "Generated: {}", time(now));
    let _ = writeln!(
        out,
        "This report holds no secret key, passwords, session tokens or API keys."
    );

    heading(&mut out, SECTIONS[0]);
    let _ = writeln!(out, "Version: witness {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(
        out,
        "Build: {} build for {}-{}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::env::consts::ARCH,
        std::env::consts::OS
    );

    heading(&mut out, SECTIONS[1]);
    let _ = writeln!(out, "Hostname: {}", hostname());
    let _ = writeln!(out, "Operating system: {}", operating_system());
    let _ = writeln!(
        out,
        "CPUs: {}",
        std::thread::available_parallelism()
            .map(|n| n.get().to_string())
            .unwrap_or_else(|_| "unknown".to_string())
    );

    heading(&mut out, SECTIONS[2]);
    let _ = writeln!(out, "Started: {}", time(state.started_at()));
    let uptime = state.uptime_seconds();
    let _ = writeln!(out, "Uptime: {} ({uptime} seconds)", human_duration(uptime));
    let _ = writeln!(out, "Data directory: {}", state.data_dir().display());

    heading(&mut out, SECTIONS[3]);
    match state.store().stats().await {
        Ok(stats) => {
            let _ = writeln!(out, "Backend: {}", stats.backend);
            let _ = writeln!(out, "Location: {}", stats.location);
            let _ = writeln!(out, "Size on disk: {}", human_bytes(stats.size_bytes));
            let _ = writeln!(out, "Events stored: {}", stats.event_count);
            let _ = writeln!(
                out,
                "Oldest event: {}",
                optional_time(stats.oldest_event, "none")
            );
            let _ = writeln!(
                out,
                "Newest event: {}",
                optional_time(stats.newest_event, "none")
            );
        }
        Err(error) => {
            let _ = writeln!(out, "Unavailable: {error}");
        }
    }

    heading(&mut out, SECTIONS[4]);
    let (accepted_requests, accepted_events, rejected) = state.ingest_counters().snapshot();
    let _ = writeln!(out, "Since start:");
    let _ = writeln!(
        out,
        "Accepted: {accepted_requests} requests, {accepted_events} events"
    );
    let _ = writeln!(out, "Rejected: {rejected} requests");

    heading(&mut out, SECTIONS[5]);
    let auditing = state.auditor().status();
    let _ = writeln!(out, "{}", auditing.summary);
    let targets: Vec<String> = auditing.targets.iter().map(|t| mask_userinfo(t)).collect();
    let _ = writeln!(out, "Targets: {}", targets.join(", "));
    let _ = writeln!(out, "Audit session: {}", state.auditor().session());

    heading(&mut out, SECTIONS[6]);
    let settings = state.current_settings().await;
    let _ = writeln!(out, "Location: {}", state.backups().dir().display());
    match state.backups().list().await {
        Ok(backups) => {
            match backups.first() {
                Some(last) => {
                    let _ = writeln!(
                        out,
                        "Last backup: {} ({}, {})",
                        time(last.created_at),
                        last.file_name,
                        human_bytes(last.size_bytes)
                    );
                }
                None => {
                    let _ = writeln!(out, "Last backup: none yet");
                }
            }
            let limit = settings
                .as_ref()
                .map(|s| format!(" (at most {} kept)", s.backups_to_keep))
                .unwrap_or_default();
            let _ = writeln!(out, "Backups kept: {}{limit}", backups.len());
        }
        Err(error) => {
            let _ = writeln!(out, "Backups: cannot list them: {error:#}");
        }
    }
    let _ = writeln!(
        out,
        "Next scheduled backup: {}",
        optional_time(state.backups().next_scheduled(), "none scheduled")
    );
    let _ = writeln!(
        out,
        "The secret key that decrypts backups is not in them, nor in this report."
    );

    heading(&mut out, SECTIONS[7]);
    match settings {
        Ok(settings) => {
            let _ = writeln!(
                out,
                "Backup time of day (UTC): {}",
                settings.backup_utc_time_of_day
            );
            let _ = writeln!(out, "Backups to keep: {}", settings.backups_to_keep);
            let _ = writeln!(out, "Retention days: {}", settings.retention_days);
        }
        Err(error) => {
            let _ = writeln!(out, "Unavailable: {error}");
        }
    }

    heading(&mut out, SECTIONS[8]);
    match state.store().verify(false).await {
        Ok(report) => {
            match &report.first_break {
                None => {
                    let _ = writeln!(out, "Event chain: intact");
                }
                Some(broken) => {
                    let _ = writeln!(
                        out,
                        "Event chain: BROKEN at event {}: {}",
                        broken.event_id, broken.reason
                    );
                }
            }
            let _ = writeln!(
                out,
                "Verified events: {} ({} checked now)",
                report.verified_count, report.newly_verified
            );
            match (&report.head_id, &report.head_hash) {
                (Some(id), Some(hash)) => {
                    let _ = writeln!(out, "Head: event {id}, hash {hash}");
                }
                _ => {
                    let _ = writeln!(out, "Head: the chain is empty");
                }
            }
            let _ = writeln!(
                out,
                "{}",
                full_verify_line(state.integrity().last_scheduled())
            );
        }
        Err(error) => {
            let _ = writeln!(out, "Verification failed to run: {error}");
        }
    }

    heading(&mut out, SECTIONS[9]);
    if !telemetry::capturing() {
        let _ = writeln!(
            out,
            "Not recorded: this process does not keep its log in memory."
        );
    } else {
        let lines = telemetry::recent_problems();
        if lines.is_empty() {
            let _ = writeln!(out, "None since start.");
        } else {
            let _ = writeln!(
                out,
                "The last {} (at most {}), oldest first:",
                lines.len(),
                telemetry::RECENT_PROBLEMS
            );
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
    }

    // Belt and braces: the key is never written above, but a log line could in principle
    // quote it.
    let key = state.backups().key().to_base64();
    out.replace(&key, "[hidden]")
}

/// One line on the last scheduled full verify (with the signed checkpoints).
pub fn full_verify_line(last: Option<witness_api::VerifyReport>) -> String {
    match last {
        None => "Scheduled full verify: not run yet since this server started".to_string(),
        Some(report) => {
            let verdict = match &report.first_break {
                None => "intact".to_string(),
                Some(broken) => format!("BROKEN at event {}: {}", broken.event_id, broken.reason),
            };
            format!(
                "Scheduled full verify at {}: {verdict} ({} events, {} signed checkpoints compared)",
                report.checked_at.format("%Y-%m-%d %H:%M:%S UTC"),
                report.verified_count,
                report.checkpoints_compared
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_credentials_in_urls() {
        assert_eq!(
            mask_userinfo("https://bob:pw@audit.example:5341/x"),
            "https://…@audit.example:5341/x"
        );
        assert_eq!(
            mask_userinfo("https://audit.example"),
            "https://audit.example"
        );
        assert_eq!(mask_userinfo("file:/var/log/a@b"), "file:/var/log/a@b");
    }

    #[test]
    fn formats_durations_and_sizes() {
        assert_eq!(human_duration(59), "0m 59s");
        assert_eq!(human_duration(3 * 3600 + 61), "3h 1m 1s");
        assert_eq!(human_duration(2 * 86_400 + 5), "2d 0h 0m 5s");
        assert_eq!(human_bytes(12), "12 bytes");
        assert_eq!(human_bytes(2048), "2048 bytes (2.0 KiB)");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5242880 bytes (5.0 MiB)");
    }
}

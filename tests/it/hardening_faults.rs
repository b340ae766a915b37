//! Faults of the third hardening round: helper processes that misbehave (an
//! mfa_process that runs aws-session, a credential_process that leaves a child behind
//! or prints expired keys, one that repeats a refused code), one Ctrl-C under
//! `exec --server`, the `--server` child's config copy and completion, a private
//! directory another user made, huge lists in messages, odd AWS_SESSION_EXPIRATION
//! values. Each against the moto peer or the shells themselves, every wait bounded.

use crate::common::{
    self, keys, pty::Pty, run_within, stderr, stdout, Peer, Sandbox, TestUser, EXAMPLE_KEY,
};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// An executable `#!/bin/sh` script in the sandbox's home.
fn script(sb: &Sandbox, name: &str, body: &str) -> PathBuf {
    let path = sb.home.path().join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
    path
}

#[track_caller]
fn one_line_error(o: &Output, code: i32, words: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("aws-session: "), "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} missing from: {err}");
    }
    err
}

/// A sandbox whose `[default]` holds `user`'s keys and its MFA serial.
fn user_sandbox(user: &TestUser) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", user));
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\nmfa_serial = {}\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    sb
}

fn count_of(peer: &Peer, key: &str, action: &str) -> usize {
    common::actions_by(peer, key)
        .iter()
        .filter(|a| *a == action)
        .count()
}

// ---------------------------------------------------------------------------
// Helper processes
// ---------------------------------------------------------------------------

#[test]
fn mfa_process_that_runs_aws_session_is_not_run_again_inside_it() {
    let peer = Peer::shared();
    let user = peer.create_user("mfa-loop", true);
    let sb = user_sandbox(&user);
    let runs = sb.home.path().join("runs");
    // Each start is counted; the fourth stops, so that a missing guard ends too.
    let codes = script(
        &sb,
        "codes.sh",
        &format!(
            "echo run >> '{runs}'\n[ \"$(wc -l < '{runs}')\" -ge 4 ] && exit 1\n'{bin}' --no-cache export >/dev/null",
            runs = runs.display(),
            bin = env!("CARGO_BIN_EXE_aws-session")
        ),
    );
    let mut cmd = sb.command(peer);
    cmd.env("AWS_SESSION_MFA_PROCESS", codes.display().to_string())
        .args(["--no-cache", "exec", "true"]);
    let o = run_within(cmd, Duration::from_secs(30));
    let err = stderr(&o);
    let started = fs::read_to_string(&runs)
        .unwrap_or_default()
        .lines()
        .count();
    assert_eq!(
        started, 1,
        "the mfa_process was started {started} times: {err}"
    );
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(!err.contains("internal error"), "{err}");
    // The inner run's refusal (its stderr is the user's), then the outer run's error.
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("AWS_SESSION_IN_CREDENTIAL_PROCESS") && lines[0].contains("not run"),
        "{err}"
    );
    assert!(lines[1].contains("failed (exit status 2)"), "{err}");
    assert_eq!(count_of(peer, &user.access_key_id, "GetSessionToken"), 0);
}

#[test]
fn credential_process_that_leaves_a_child_holding_stdout_is_done_when_it_exits() {
    let peer = Peer::shared();
    let user = peer.create_user("cp-bg", true);
    let sb = Sandbox::new();
    let pid_file = sb.home.path().join("bg.pid");
    let cp = script(
        &sb,
        "keys.sh",
        &format!(
            "printf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' '{}' '{}'\nsleep 40 2>/dev/null &\necho $! > '{}'",
            user.access_key_id,
            user.secret_access_key,
            pid_file.display()
        ),
    );
    sb.write_config(&format!(
        "[profile p]\ncredential_process = {}\nmfa_serial = {}\n",
        cp.display(),
        user.mfa_serial.as_deref().unwrap()
    ));
    let mut cmd = sb.command(peer);
    cmd.args([
        "--profile",
        "p",
        "--code",
        &user.fresh_code(),
        "exec",
        "true",
    ]);
    let started = Instant::now();
    let o = run_within(cmd, Duration::from_secs(50));
    let took = started.elapsed();
    if let Some(pid) = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    {
        // SAFETY: kill(2) of the sleep this test's script started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(count_of(peer, &user.access_key_id, "GetSessionToken"), 1);
}

#[test]
fn expired_credential_process_keys_are_refused_before_anything_is_sent() {
    let peer = Peer::shared();
    let user = peer.create_user("cp-expired", true);
    let sb = Sandbox::new();
    let cp = script(
        &sb,
        "keys.sh",
        &format!(
            "printf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", \"Expiration\": \"2001-01-01T00:00:00Z\"}}' '{}' '{}'",
            user.access_key_id, user.secret_access_key
        ),
    );
    sb.write_config(&format!(
        "[profile p]\ncredential_process = {}\nmfa_serial = {}\n",
        cp.display(),
        user.mfa_serial.as_deref().unwrap()
    ));
    let mut cmd = sb.command(peer);
    cmd.args(["--profile", "p", "--code", "123456", "exec", "true"]);
    let o = run_within(cmd, Duration::from_secs(20));
    one_line_error(
        &o,
        2,
        &[
            "credential_process of profile \"p\"",
            "expired at 2001-01-01T00:00:00Z",
        ],
    );
    assert!(common::actions_by(peer, &user.access_key_id).is_empty());
}

#[test]
fn a_code_aws_refused_is_not_sent_again_when_mfa_process_repeats_it() {
    let peer = Peer::shared();
    let user = peer.create_user("mfa-same", true);
    let sb = user_sandbox(&user);
    // A process stuck on one wrong code (a clock far off, a cached value).
    let codes = script(&sb, "codes.sh", "printf '000000\\n'");
    let mut cmd = sb.command(peer);
    cmd.env("AWS_SESSION_MFA_PROCESS", codes.display().to_string())
        .args(["--no-cache", "exec", "true"]);
    // It waits for the next 30-second window before it asks again.
    let o = run_within(cmd, Duration::from_secs(45));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("asking it again in"), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("aws-session: ") && last.contains("not sent again"),
        "{err}"
    );
    assert_eq!(count_of(peer, &user.access_key_id, "GetSessionToken"), 1);
}

// ---------------------------------------------------------------------------
// exec --server
// ---------------------------------------------------------------------------

/// Counts each SIGINT as it is delivered (the wakeup fd gets a byte per delivery),
/// prints `ready`, and after a line on stdin prints `count=N`.
const COUNT_SIGINTS: &str = r#"
import os, signal, sys
r, w = os.pipe()
os.set_blocking(w, False)
os.set_blocking(r, False)
signal.set_wakeup_fd(w)
signal.signal(signal.SIGINT, lambda *a: None)
print("ready", flush=True)
sys.stdin.readline()
n = 0
try:
    while True:
        n += len(os.read(r, 4096))
except BlockingIOError:
    pass
print("count=%d" % n, flush=True)
"#;

#[test]
fn one_ctrl_c_under_exec_server_reaches_the_child_once() {
    let peer = Peer::shared();
    let user = peer.create_user("server-intr", true);
    let sb = user_sandbox(&user);
    let counter = sb.home.path().join("count.py");
    fs::write(&counter, COUNT_SIGINTS).unwrap();
    let python = common::venv().join("bin/python");
    let mut cmd = sb.command(peer);
    cmd.args(["--code", &user.fresh_code(), "exec", "--server"])
        .arg(&python)
        .arg(&counter);
    let mut pty = Pty::spawn(cmd, 120, 30);
    pty.expect("ready", Duration::from_secs(30));
    // The terminal signals the whole foreground group, aws-session and the child: a
    // second copy from aws-session would be counted too (it is not merged with the
    // first every time, so several rounds).
    const ROUNDS: usize = 8;
    for _ in 0..ROUNDS {
        pty.send("\x03");
        std::thread::sleep(Duration::from_millis(300));
    }
    pty.send("done\r");
    pty.expect("count=", Duration::from_secs(10));
    let status = pty.wait(Duration::from_secs(10));
    let out = pty.output();
    let count = out
        .split("count=")
        .nth(1)
        .and_then(|s| s.trim_start().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok());
    assert_eq!(count, Some(ROUNDS), "{out}");
    assert_eq!(status.code(), Some(0), "{out}");
}

#[test]
fn exec_server_checks_a_private_dir_another_user_made_before_the_code() {
    let peer = Peer::shared();
    let user = peer.create_user("server-tmp", true);
    let sb = user_sandbox(&user);
    let tmp = tempfile::Builder::new()
        .prefix("aws-session-shared-tmp-")
        .tempdir()
        .unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o1777)).unwrap();
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let planted = tmp.path().join(format!("aws-session-{uid}"));
    // Another user (nobody) makes the directory first.
    let made = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "mkdir"])
        .arg(&planted)
        .output()
        .expect("setpriv (util-linux)");
    assert!(made.status.success(), "setpriv: {}", stderr(&made));
    let mut cmd = sb.command(peer);
    cmd.env("TMPDIR", tmp.path())
        .args(["--code", &user.fresh_code(), "exec", "--server", "true"]);
    let o = run_within(cmd, Duration::from_secs(20));
    one_line_error(
        &o,
        6,
        &[
            &planted.display().to_string(),
            "not a directory owned by you",
        ],
    );
    assert!(common::actions_by(peer, &user.access_key_id).is_empty());
}

/// `aws sts get-caller-identity` in the `--server` child with AWS_ENDPOINT_URL
/// taken away: only the profile's own endpoint settings (in the config copy) lead it
/// to the peer; anything else would go to a dead proxy.
fn caller_identity_in_server_child(sb: &Sandbox, peer: &Peer, code: &str) -> Output {
    let mut cmd = sb.command(peer);
    cmd.args(["--profile", "p", "--code", code, "exec", "--server"])
        .args(["env", "-u", "AWS_ENDPOINT_URL"])
        .args([
            "HTTPS_PROXY=http://127.0.0.1:9",
            "HTTP_PROXY=http://127.0.0.1:9",
        ])
        .args(["NO_PROXY=127.0.0.1", "AWS_MAX_ATTEMPTS=1"])
        .args(["aws", "sts", "get-caller-identity", "--output", "text"]);
    run_within(cmd, Duration::from_secs(60))
}

#[test]
fn the_server_childs_config_keeps_the_settings_that_point_elsewhere() {
    let peer = Peer::shared();
    let user = peer.create_user("server-svc", true);
    let serial = user.mfa_serial.clone().unwrap();
    for (what, config) in [
        (
            "services",
            format!(
                "[profile p]\nregion = us-east-1\nmfa_serial = {serial}\nservices = local\n\n[services local]\nsts =\n  endpoint_url = {}\n",
                peer.url
            ),
        ),
        (
            "endpoint_url",
            format!(
                "[profile p]\nregion = us-east-1\nmfa_serial = {serial}\nendpoint_url = {}\n",
                peer.url
            ),
        ),
    ] {
        let sb = Sandbox::new();
        sb.write_credentials(&keys("p", &user));
        sb.write_config(&config);
        let o = caller_identity_in_server_child(&sb, peer, &user.fresh_code());
        assert!(
            o.status.success() && stdout(&o).contains(&user.arn),
            "{what}: {:?}\n{}\n{}",
            o.status,
            stdout(&o),
            stderr(&o)
        );
    }
}

// ---------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------

fn completion_script(sb: &Sandbox, shell: &str) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_aws-session"))
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = sb.home.path().join(format!("completion.{shell}"));
    fs::write(&path, out.stdout).unwrap();
    path
}

/// What bash's completion offers for `line` (the cursor at its end), with COMP_WORDS
/// split as bash splits them: at COMP_WORDBREAKS, ':' included.
fn bash_offers(script: &Path, line: &str, mut cmd: Command) -> Vec<String> {
    let body = format!(
        r#"source '{}'
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
COMP_WORDS=()
w=
for ((i = 0; i < ${{#COMP_LINE}}; i++)); do
  c=${{COMP_LINE:i:1}}
  if [[ $c == ' ' ]]; then [[ -n $w ]] && COMP_WORDS+=("$w"); w=
  elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then [[ -n $w ]] && COMP_WORDS+=("$w"); COMP_WORDS+=("$c"); w=
  else w+=$c; fi
done
COMP_WORDS+=("$w")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_aws_session
printf '<%s>\n' "${{COMPREPLY[@]}}"
"#,
        script.display()
    );
    let out = cmd.arg("-c").arg(body).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix('<')?.strip_suffix('>'))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

const COLON_PROFILES: &str =
    "[profile team:dev]\nregion = us-east-1\n[profile team:prod]\n[profile other]\n";

#[test]
fn bash_completes_profile_names_with_a_colon() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    sb.write_config(COLON_PROFILES);
    let script = completion_script(&sb, "bash");
    let bash = || sb.command_for("bash", peer);
    // bash replaces only the part after the last ':', so that part is offered.
    assert_eq!(
        bash_offers(&script, "aws-session --profile team:d", bash()),
        ["dev"]
    );
    let mut all = bash_offers(&script, "aws-session --profile team:", bash());
    all.sort();
    assert_eq!(all, ["dev", "prod"]);
    let mut all = bash_offers(&script, "aws-session --profile te", bash());
    all.sort();
    assert_eq!(all, ["team:dev", "team:prod"]);
}

#[test]
fn zsh_completion_escapes_the_colon_describe_would_split_at() {
    let peer = Peer::shared();
    let sb = Sandbox::new();
    sb.write_config(COLON_PROFILES);
    let script = completion_script(&sb, "zsh");
    // `_describe` reads `name:description`: a name must come with its ':' escaped.
    let out = sb
        .command_for("zsh", peer)
        .arg("-fc")
        .arg(format!(
            "compdef() {{ : }}\nsource '{}'\n_describe() {{ local n=${{@[-1]}} x; for x in \"${{(@P)n}}\"; do print -r -- \"<$x>\"; done }}\n_aws_session_profiles",
            script.display()
        ))
        .output()
        .unwrap();
    let mut offered: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix('<')?.strip_suffix('>'))
        .map(str::to_string)
        .collect();
    offered.sort();
    assert_eq!(
        offered,
        ["other", "team\\:dev", "team\\:prod"],
        "{}",
        stderr(&out)
    );
}

#[test]
fn completion_inside_exec_server_sees_the_real_profiles() {
    let peer = Peer::shared();
    let user = peer.create_user("server-compl", true);
    let sb = user_sandbox(&user);
    sb.write_config(&format!(
        "[default]\nregion = us-east-1\nmfa_serial = {}\n[profile dev]\n[profile team:ops]\n",
        user.mfa_serial.as_deref().unwrap()
    ));
    let script = completion_script(&sb, "bash");
    let body = format!(
        "source '{}'\nCOMP_WORDS=(aws-session --profile '')\nCOMP_CWORD=2\n_aws_session\nprintf '<%s>\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let mut cmd = sb.command(peer);
    cmd.args(["--code", &user.fresh_code(), "exec", "--server"])
        .args(["bash", "-c", &body]);
    let o = run_within(cmd, Duration::from_secs(30));
    assert!(o.status.success(), "{}", stderr(&o));
    let mut offered: Vec<String> = stdout(&o)
        .lines()
        .filter_map(|l| l.strip_prefix('<')?.strip_suffix('>'))
        .map(str::to_string)
        .collect();
    offered.sort();
    assert_eq!(offered, ["default", "dev", "team:ops"]);
}

// ---------------------------------------------------------------------------
// Messages and the prompt
// ---------------------------------------------------------------------------

#[test]
fn an_unknown_profile_among_100000_is_named_in_one_short_line() {
    let sb = common::example_sandbox(true);
    let mut text = String::with_capacity(3_000_000);
    for i in 0..100_000 {
        text.push_str(&format!("[profile p{i:06}]\nregion = us-east-1\n"));
    }
    // A source_profile loop through 30 profiles.
    for i in 0..30 {
        text.push_str(&format!(
            "[profile loop{i:02}]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = loop{:02}\n",
            (i + 1) % 30
        ));
    }
    sb.write_config(&text);
    for (profile, words) in [
        ("nope", &["\"nope\" not found", "and 100021 more"][..]),
        ("loop00", &["infinite loop", "and 21 more"][..]),
    ] {
        let mut cmd = common::bare_command(&sb, "http://127.0.0.1:9/");
        cmd.args(["--profile", profile, "--code", "123456", "exec", "true"]);
        let o = run_within(cmd, Duration::from_secs(30));
        let err = one_line_error(&o, 2, words);
        assert!(err.len() < 2000, "{} bytes: {err:.300}", err.len());
        assert!(!err.contains(EXAMPLE_KEY));
    }
}

/// The prompt prefix bash's hook makes for AWS_SESSION_EXPIRATION=`value` (`None`:
/// unset), and what bash wrote on stderr.
fn hook_prefix(sb: &Sandbox, shell: &str, value: Option<&str>) -> (String, String) {
    let rc = match shell {
        "bash" => aws_session::shell::bash_rc(),
        _ => aws_session::shell::zsh_rc(),
    };
    let path = sb.home.path().join(format!("rc.{shell}"));
    fs::write(&path, rc).unwrap();
    let mut cmd = Command::new(shell);
    cmd.env_clear()
        .env("HOME", sb.home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1");
    if let Some(v) = value {
        cmd.env("AWS_SESSION_EXPIRATION", v);
    }
    let flag = if shell == "bash" { "--norc" } else { "-f" };
    let out = cmd
        .arg(flag)
        .arg("-c")
        .arg(format!(
            "source '{}' >/dev/null\n__aws_session_set_prefix\nprintf '%s' \"$__aws_session_prefix\"",
            path.display()
        ))
        .output()
        .unwrap();
    (stdout(&out), stderr(&out))
}

#[test]
fn prompt_and_the_shell_hook_agree_on_odd_expiration_values() {
    let sb = Sandbox::new();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let in_two_hours = (now + 7260).to_string();
    let values: Vec<Option<String>> = vec![
        None,
        Some(String::new()),
        Some("abc".into()),
        Some(" 123".into()),
        Some("08".into()),
        Some("0009".into()),
        Some(format!("0{in_two_hours}")),
        Some(format!("0000000000000{in_two_hours}")),
        Some("-5".into()),
        Some("-".into()),
        Some("99999999999999999999".into()),
        Some(in_two_hours.clone()),
    ];
    let mut wrong = Vec::new();
    for v in &values {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aws-session"));
        cmd.env_clear()
            .env("HOME", sb.home.path())
            .env("NO_COLOR", "1")
            .arg("prompt");
        if let Some(v) = v {
            cmd.env("AWS_SESSION_EXPIRATION", v);
        }
        let out = cmd.output().unwrap();
        let prompt = stdout(&out);
        for shell in ["bash", "zsh"] {
            let (hook, err) = hook_prefix(&sb, shell, v.as_deref());
            if hook != prompt || !err.is_empty() {
                wrong.push(format!(
                    "{shell} with {v:?}: hook {hook:?}, prompt {prompt:?}, stderr {err:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

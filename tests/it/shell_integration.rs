//! Shell integration in real shells: bash, zsh and fish on a pseudo-terminal show the
//! prompt prefix, keep the user's own rc files and hooks, run the real AWS CLI,
//! refresh with `aws-session-refresh` and by themselves when the session has run out,
//! and exit with their own status. Plus the shell-side prefix code against the Rust
//! `prompt_prefix`, and the generated functions against fake `aws` / `aws-session`.

use crate::common::{pty::Pty, system_path, tool, Peer, Sandbox, TestUser};
use aws_session::shell::{self, prompt_prefix, EscapeStyle};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Per step on the pseudo-terminal: generous, the machine is busy.
const STEP: Duration = Duration::from_secs(30);
/// What aws-session asks on the terminal.
const CODE_PROMPT: &str = "6 digit MFA code: ";
/// What the user's own rc files set (checked from inside the shell).
const RC_MARK: &str = "loaded-by-user-rc";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// A sandbox whose default profile holds `user`'s keys, with a region for the CLI
/// and a TMPDIR of its own for the private rc directory.
fn sandbox_for(user: &TestUser) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(&format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    sb.write_config("[default]\nregion = us-east-1\n");
    fs::create_dir(tmpdir(&sb)).expect("create the sandbox TMPDIR");
    sb
}

fn tmpdir(sb: &Sandbox) -> PathBuf {
    sb.home.path().join("tmp")
}

/// The private directory aws-session makes under the sandbox's TMPDIR.
fn private_dir_of(sb: &Sandbox) -> PathBuf {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    tmpdir(sb).join(format!("aws-session-{uid}"))
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("create the rc directory");
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `aws-session [args]` with `SHELL=shell` on a terminal that has colours.
fn shell_command(sb: &Sandbox, peer: &Peer, shell: &str, args: &[&str]) -> Command {
    let mut cmd = sb.command(peer);
    cmd.env("SHELL", tool(shell))
        .env("TERM", "xterm")
        .env("TMPDIR", tmpdir(sb))
        .args(args);
    cmd
}

/// Wait for the next prompt prefix and return what is inside `(aws` … `) `.
fn expect_prefix(pty: &mut Pty) -> String {
    pty.expect("(aws", STEP);
    let rest = pty.expect(") ", STEP);
    rest[..rest.len() - 2].to_string()
}

/// `+` and a two-digit count of hours, minutes or seconds.
fn assert_time_prefix(inner: &str) {
    let b = inner.as_bytes();
    assert!(
        b.len() == 4
            && b[0] == b'+'
            && b[1].is_ascii_digit()
            && b[2].is_ascii_digit()
            && matches!(b[3], b'h' | b'm' | b's'),
        "the prefix should be (aws+NNu), got (aws{inner})"
    );
}

/// The shell's current AWS_ACCESS_KEY_ID (typed as a variable, so the echo of the
/// command line cannot match).
fn current_key(pty: &mut Pty) -> String {
    pty.send_line("echo KEY-$AWS_ACCESS_KEY_ID-END");
    pty.expect("KEY-ASIA", STEP);
    let rest = pty.expect("-END", STEP);
    format!("ASIA{}", &rest[..rest.len() - 4])
}

/// What differs between the shells in the common scenario.
struct Dialect {
    name: &'static str,
    path: &'static str,
    /// Writes the user's own rc files into the sandbox home.
    write_user_rc: fn(&Path),
    /// A command line that sets AWS_SESSION_EXPIRATION to now + the argument.
    set_expiry: fn(i64) -> String,
    /// A command line that prints `NPFX-<how many (aws prefixes the prompt has>`.
    count_prefixes: &'static str,
    /// Private rc files the shell gets (relative to the private directory).
    private_files: &'static [&'static str],
    /// The last command's exit status.
    status: &'static str,
}

/// Counts `(aws` in PS1 without typing `(aws` (the echo of the line must not match).
const COUNT_IN_PS1: &str = r#"a='('aws; p=$PS1; n=0; while [[ $p == *"$a"* ]]; do p=${p#*"$a"}; n=$((n+1)); done; echo NPFX-$n"#;

fn posix_expiry(secs: i64) -> String {
    format!("export AWS_SESSION_EXPIRATION=$(( $(date +%s) + ({secs}) ))")
}

const BASH: Dialect = Dialect {
    name: "bash",
    path: "bash",
    write_user_rc: |home| {
        write(
            &home.join(".bashrc"),
            &format!(
                "export RC_MARK={RC_MARK}\nPS1='$ '\n# the user's own hook: records the status it sees\nPROMPT_COMMAND='__user_rc=$?'\n"
            ),
        )
    },
    set_expiry: posix_expiry,
    count_prefixes: COUNT_IN_PS1,
    private_files: &["bashrc"],
    status: "$?",
};

const ZSH: Dialect = Dialect {
    name: "zsh",
    path: "zsh",
    write_user_rc: |home| {
        // .zshenv and .zshrc both load: RC_MARK is made from a part of each.
        write(&home.join(".zshenv"), "ENV_PART=by-user\n");
        write(
            &home.join(".zshrc"),
            "export RC_MARK=loaded-$ENV_PART-rc\nPROMPT='$ '\nprecmd() { __user_rc=$? }\n",
        )
    },
    set_expiry: posix_expiry,
    count_prefixes: COUNT_IN_PS1,
    private_files: &[".zshenv", ".zshrc"],
    status: "$?",
};

const FISH: Dialect = Dialect {
    name: "fish",
    path: "fish",
    write_user_rc: |home| {
        write(
            &home.join(".config/fish/config.fish"),
            &format!(
                "set -gx RC_MARK {RC_MARK}\nset -g fish_greeting\n\
                 function fish_prompt\n    set -g __user_rc $status\n    printf '[%s]$ ' $__user_rc\nend\n"
            ),
        )
    },
    set_expiry: |secs| format!("set -gx AWS_SESSION_EXPIRATION (math (date +%s) + {secs})"),
    count_prefixes: "echo NPFX-(fish_prompt | string match -ar '[(]aws' | count)",
    private_files: &[],
    status: "$status",
};

/// The acceptance scenario of one shell, start to exit.
fn scenario(d: &Dialect) {
    let peer = Peer::shared();
    let user = peer.create_user(d.name, true);
    let sb = sandbox_for(&user);
    (d.write_user_rc)(sb.home.path());
    let mut pty = Pty::spawn(shell_command(&sb, peer, d.path, &[]), 160, 40);

    // Start: a code is asked, then the prompt carries the time left.
    pty.expect(CODE_PROMPT, STEP);
    pty.send_line(&user.fresh_code());
    assert_time_prefix(&expect_prefix(&mut pty));

    // The rc files aws-session wrote are private.
    let private = private_dir_of(&sb);
    for file in d.private_files {
        assert_eq!(mode(&private), 0o700, "{}", private.display());
        assert_eq!(mode(&private.join(file)), 0o600, "{file}");
    }

    // The user's own rc file loaded.
    pty.send_line("echo RC-$RC_MARK");
    pty.expect(&format!("RC-{RC_MARK}"), STEP);

    // The real AWS CLI works with the session.
    pty.send_line("aws sts get-caller-identity --query Arn --output text");
    pty.expect(&user.arn, STEP);

    // The user's hook sees the status of the command before it.
    pty.send_line("sh -c 'exit 3'");
    pty.send_line("echo HOOK-$__user_rc");
    pty.expect("HOOK-3", STEP);

    // After several prompts, one prefix.
    for _ in 0..3 {
        pty.send_line("");
    }
    pty.send_line(d.count_prefixes);
    pty.expect("NPFX-1\r", STEP);

    // aws-session-refresh asks for a code and changes the keys.
    let first = current_key(&mut pty);
    pty.send_line(&format!("aws-session-refresh; echo REFRESHED-{}", d.status));
    pty.expect(CODE_PROMPT, STEP);
    pty.send_line(&user.fresh_code());
    pty.expect("REFRESHED-0", STEP);
    let second = current_key(&mut pty);
    assert_ne!(first, second, "aws-session-refresh should change the keys");

    // Colours: yellow under 5 minutes, red under 1.
    pty.send_line(&(d.set_expiry)(200));
    pty.expect("(aws+\x1b[33m03m\x1b[39m) ", STEP);
    pty.send_line(&(d.set_expiry)(30));
    pty.expect("(aws+\x1b[31m", STEP);

    // Run out: the prompt says so, and the next `aws` asks for a code first.
    pty.send_line(&(d.set_expiry)(-5));
    pty.expect("(aws!\x1b[31mexp\x1b[39m) ", STEP);
    peer.expire(&second);
    pty.send_line(&format!(
        "aws sts get-caller-identity --query Arn --output text; echo AWS-{}",
        d.status
    ));
    pty.expect(CODE_PROMPT, STEP);
    pty.send_line(&user.fresh_code());
    pty.expect(&user.arn, STEP);
    pty.expect("AWS-0", STEP);
    let third = current_key(&mut pty);
    assert_ne!(
        second, third,
        "the automatic refresh should change the keys"
    );
    assert_time_prefix(&expect_prefix(&mut pty));

    // exit returns the shell's status.
    pty.send_line("exit 7");
    assert_eq!(pty.wait(STEP).code(), Some(7), "{}", pty.output());
}

#[test]
fn bash_prompt_rc_cli_refresh_expiry_and_exit() {
    scenario(&BASH);
}

#[test]
fn zsh_prompt_rc_cli_refresh_expiry_and_exit() {
    scenario(&ZSH);
}

#[test]
fn fish_prompt_rc_cli_refresh_expiry_and_exit() {
    scenario(&FISH);
}

/// A prompt hook that rebuilds PS1 (as `__git_ps1` and many themes do) keeps the
/// prefix, in the string form (with a trailing `;`) and the array form of
/// PROMPT_COMMAND, and sees the command's status.
#[test]
fn bash_prefix_survives_a_prompt_command_that_rebuilds_ps1() {
    let peer = Peer::shared();
    let user = peer.create_user("bash-ps1", true);
    let sb = sandbox_for(&user);
    for rc in [
        r#"PROMPT_COMMAND='__user_rc=$?; PS1="u$__user_rc\$ ";'"#,
        r#"PROMPT_COMMAND=('__user_rc=$?' 'PS1="u$__user_rc\$ "')"#,
    ] {
        write(&sb.home.path().join(".bashrc"), &format!("{rc}\n"));
        let code = user.fresh_code();
        let mut pty = Pty::spawn(
            shell_command(&sb, peer, "bash", &["--code", &code, "shell"]),
            160,
            40,
        );
        assert_time_prefix(&expect_prefix(&mut pty));
        pty.expect("u0$ ", STEP);
        pty.send_line("sh -c 'exit 4'");
        assert_time_prefix(&expect_prefix(&mut pty));
        pty.expect("u4$ ", STEP);
        pty.send_line("false");
        pty.send_line("echo STATUS-$?");
        pty.expect("STATUS-1", STEP);
        pty.send_line("exit");
        assert_eq!(pty.wait(STEP).code(), Some(0), "{rc}: {}", pty.output());
    }
}

/// zsh finds the user's files where zsh would: in a ZDOTDIR the caller exported, and
/// in one that ~/.zshenv sets; inside, ZDOTDIR is what it would be without us.
#[test]
fn zsh_reads_the_users_zdotdir() {
    let peer = Peer::shared();
    let user = peer.create_user("zsh-zdot", true);
    let sb = sandbox_for(&user);
    let home = sb.home.path().to_path_buf();

    // The caller's ZDOTDIR.
    let zd = home.join("zd");
    write(&zd.join(".zshenv"), "ENV_PART=zd-env\n");
    write(
        &zd.join(".zshrc"),
        "export RC_MARK=$ENV_PART-zd-rc\nPROMPT='$ '\n",
    );
    let code = user.fresh_code();
    let mut cmd = shell_command(&sb, peer, "zsh", &["--code", &code]);
    cmd.env("ZDOTDIR", &zd);
    let mut pty = Pty::spawn(cmd, 160, 40);
    assert_time_prefix(&expect_prefix(&mut pty));
    pty.send_line("echo RC-$RC_MARK-ZD-$ZDOTDIR-END");
    pty.expect(&format!("RC-zd-env-zd-rc-ZD-{}-END", zd.display()), STEP);
    pty.send_line("exit 3");
    assert_eq!(pty.wait(STEP).code(), Some(3), "{}", pty.output());

    // ~/.zshenv moves ZDOTDIR (a common XDG layout) without exporting it.
    let xdg = home.join(".config/zsh");
    write(&home.join(".zshenv"), "ZDOTDIR=$HOME/.config/zsh\n");
    write(&xdg.join(".zshrc"), "export RC_MARK=xdg-rc\nPROMPT='$ '\n");
    let code = user.fresh_code();
    let mut pty = Pty::spawn(shell_command(&sb, peer, "zsh", &["--code", &code]), 160, 40);
    assert_time_prefix(&expect_prefix(&mut pty));
    pty.send_line("echo RC-$RC_MARK-ZD-$ZDOTDIR-END");
    pty.expect(&format!("RC-xdg-rc-ZD-{}-END", xdg.display()), STEP);
    // Not exported, as in zsh without aws-session: a child zsh reads ~/.zshenv again.
    pty.send_line("echo AWSVARS-$(env | grep -c '^AWS_SESSION_ZDOT')");
    pty.expect("AWSVARS-0", STEP);
    pty.send_line("echo EXPORTED-$(env | grep -c '^ZDOTDIR=')");
    pty.expect("EXPORTED-0", STEP);
    pty.send_line("exit");
    assert_eq!(pty.wait(STEP).code(), Some(0), "{}", pty.output());
}

/// `shell` inside a live session is refused (exit 1, naming --force); with --force
/// (and --no-cache, so the outer shell's cached session is not simply reused) it
/// starts, asks for a code, and its exit status comes back to the outer shell.
#[test]
fn nested_shell_is_refused_unless_forced() {
    let peer = Peer::shared();
    let user = peer.create_user("nested", true);
    let sb = sandbox_for(&user);
    write(&sb.home.path().join(".bashrc"), "PS1='$ '\n");
    let code = user.fresh_code();
    let mut pty = Pty::spawn(
        shell_command(&sb, peer, "bash", &["--code", &code, "shell"]),
        160,
        40,
    );
    assert_time_prefix(&expect_prefix(&mut pty));
    pty.send_line(r#""$AWS_SESSION" shell; echo NESTED-$?"#);
    let refused = pty.expect("NESTED-1", STEP);
    assert!(
        refused.contains("already inside") && refused.contains("--force"),
        "{refused}"
    );
    pty.send_line(r#""$AWS_SESSION" --force --no-cache shell; echo FORCED-$?"#);
    pty.expect(CODE_PROMPT, STEP);
    pty.send_line(&user.fresh_code());
    assert_time_prefix(&expect_prefix(&mut pty));
    pty.send_line(COUNT_IN_PS1);
    pty.expect("NPFX-1\r", STEP);
    pty.send_line("exit 5");
    pty.expect("FORCED-5", STEP);
    pty.send_line("exit");
    assert_eq!(pty.wait(STEP).code(), Some(0), "{}", pty.output());
}

/// A shell without integration still starts, with a one-line note, the session in
/// its environment, and its own exit status.
#[test]
fn unsupported_shell_starts_with_a_note() {
    let peer = Peer::shared();
    let user = peer.create_user("dash", true);
    let sb = sandbox_for(&user);
    let code = user.fresh_code();
    let mut pty = Pty::spawn(
        shell_command(&sb, peer, "dash", &["--code", &code]),
        160,
        40,
    );
    let note = pty.expect("\n", STEP);
    assert!(
        note.contains("aws-session: note:") && note.contains("not bash, zsh or fish"),
        "{note}"
    );
    pty.send_line("echo MARK-$((1+1))");
    pty.expect("MARK-2", STEP);
    let key = current_key(&mut pty);
    assert_ne!(key, user.access_key_id);
    pty.send_line("exit 4");
    assert_eq!(pty.wait(STEP).code(), Some(4), "{}", pty.output());
}

/// A private directory that others may write to is not used: the shell starts
/// without the integration, says why, and nothing is written into that directory.
#[test]
fn an_unsafe_rc_directory_is_not_used() {
    let peer = Peer::shared();
    let user = peer.create_user("unsafe-dir", true);
    let sb = sandbox_for(&user);
    write(&sb.home.path().join(".bashrc"), "PS1='$ '\n");
    let dir = private_dir_of(&sb);
    fs::create_dir(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let code = user.fresh_code();
    let mut pty = Pty::spawn(
        shell_command(&sb, peer, "bash", &["--code", &code]),
        160,
        40,
    );
    let note = pty.expect("writable by others", STEP);
    assert!(note.contains(&dir.display().to_string()), "{note}");
    pty.send_line("echo MARK-$((1+1)) FN-$(type -t aws-session-refresh)-END");
    pty.expect("MARK-2 FN--END", STEP);
    pty.send_line("exit 6");
    assert_eq!(pty.wait(STEP).code(), Some(6), "{}", pty.output());
    assert_eq!(
        fs::read_dir(&dir).expect("read dir").count(),
        0,
        "nothing written into {}",
        dir.display()
    );
    assert!(!pty.output().contains("(aws"), "{}", pty.output());
}

// ---- the generated shell code, without a peer ---------------------------------

/// Remaining seconds at the boundaries of the format and the colours.
const BOUNDARIES: [i64; 14] = [
    43200, 6000, 5999, 301, 300, 299, 100, 99, 61, 60, 59, 1, 0, -5,
];
/// A fixed "now" for the shell functions, so boundaries are exact.
const FIXED_NOW: i64 = 1_700_000_000;

/// Run `script` in `shell` with an empty HOME and nothing else of ours in the env.
fn run_shell(shell: &str, home: &Path, env: &[(&str, &str)], script: &str) -> (String, String) {
    let out = Command::new(shell)
        .env_clear()
        .env("HOME", home)
        .env(
            "PATH",
            format!("{}:{}", home.join("bin").display(), system_path()),
        )
        .envs(env.iter().copied())
        .arg("-c")
        .arg(script)
        .current_dir(home)
        .output()
        .unwrap_or_else(|e| panic!("run {shell}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{shell} failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

fn temp_home() -> tempfile::TempDir {
    let home = tempfile::Builder::new()
        .prefix("aws-session-shell-")
        .tempdir()
        .expect("a temporary HOME");
    fs::create_dir(home.path().join("bin")).expect("create bin");
    home
}

/// The bash and zsh prompt functions print what `prompt_prefix` prints, at every
/// boundary, with and without colour; their clock is the real one.
#[test]
fn shell_side_prefix_agrees_with_prompt_prefix() {
    let home = temp_home();
    let cases = [
        ("bash", shell::bash_rc(), EscapeStyle::Bash),
        ("zsh", shell::zsh_rc(), EscapeStyle::Zsh),
    ];
    let list = BOUNDARIES.map(|r| r.to_string()).join(" ");
    for (sh, rc, style) in cases {
        let rc_path = home.path().join(format!("{sh}.rc"));
        write(&rc_path, &rc);
        let script = format!(
            r#"source '{rc}'
__aws_session_now; echo "NOW $__aws_session_now"
function __aws_session_now {{ __aws_session_now={FIXED_NOW}; }}
for r in {list}; do
  AWS_SESSION_EXPIRATION=$(( {FIXED_NOW} + r ))
  __aws_session_set_prefix
  printf '%s=[%s]\n' "$r" "$__aws_session_prefix"
  aws-session-valid; echo "valid $r $?"
done
"#,
            rc = rc_path.display()
        );
        for color in [false, true] {
            let flag = if color { "1" } else { "0" };
            let (out, _) = run_shell(sh, home.path(), &[("AWS_SESSION_COLOR", flag)], &script);
            let clock: i64 = out
                .lines()
                .find_map(|l| l.strip_prefix("NOW "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{sh}: no NOW line in {out}"));
            assert!((clock - now()).abs() <= 5, "{sh}: clock {clock}");
            for r in BOUNDARIES {
                let want = format!("{r}=[{}]", prompt_prefix(r, color, style));
                assert!(
                    out.lines().any(|l| l == want),
                    "{sh} colour {color}: want {want:?} in\n{out}"
                );
                let valid = if r > shell::REFRESH_MARGIN_SECS { 0 } else { 1 };
                assert!(
                    out.lines().any(|l| l == format!("valid {r} {valid}")),
                    "{sh}: aws-session-valid at {r} should be {valid}:\n{out}"
                );
            }
        }
        // NO_COLOR wins over AWS_SESSION_COLOR=1.
        let (out, _) = run_shell(
            sh,
            home.path(),
            &[("AWS_SESSION_COLOR", "1"), ("NO_COLOR", "1")],
            &script,
        );
        assert!(out.lines().any(|l| l == "59=[(aws+59s) ]"), "{sh}:\n{out}");
    }
}

/// bash in POSIX mode (`bash --posix`, or a `.bashrc` with `set -o posix`) takes
/// the rc: the functions are defined, the prompt hook adds its prefix, the shell
/// stays in POSIX mode, and nothing is printed on stderr. A smoke test of the rc
/// on a stricter bash than the one it is written on (macOS's is bash 3.2, which
/// `shell::tests::bash_rc_uses_nothing_newer_than_bash_3_2` checks the text against).
#[test]
fn bash_rc_runs_in_posix_mode() {
    let home = temp_home();
    let rc_path = home.path().join("bash.rc");
    write(&rc_path, &shell::bash_rc());
    let script = format!(
        r#"source '{rc}'
shopt -oq posix && echo POSIX-STILL-ON
PS1='$ '
AWS_SESSION_EXPIRATION=$(( $(date +%s) + 3600 + 30 ))
eval "$PROMPT_COMMAND"
printf 'PS1=[%s]\n' "$PS1"
eval "$PROMPT_COMMAND"
printf 'PS1=[%s]\n' "$PS1"
aws-session-valid; echo "valid $?"
type aws | head -n 1
"#,
        rc = rc_path.display()
    );
    let want_ps1 = format!("PS1=[{}$ ]", prompt_prefix(3600, false, EscapeStyle::Bash));
    // `bash --posix` itself, and a plain bash whose ~/.bashrc turns POSIX mode on.
    for (how, args, bashrc) in [
        ("bash --posix", &["--posix", "-c"][..], ""),
        ("set -o posix in ~/.bashrc", &["-c"][..], "set -o posix\n"),
    ] {
        write(&home.path().join(".bashrc"), bashrc);
        let out = Command::new("bash")
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_SESSION_COLOR", "0")
            .args(args)
            .arg(&script)
            .current_dir(home.path())
            .output()
            .unwrap_or_else(|e| panic!("peer missing: cannot run bash: {e}"));
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{how}: {:?}\n{stderr}", out.status);
        assert_eq!(stderr, "", "{how}: the rc printed errors");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines,
            [
                "POSIX-STILL-ON",
                want_ps1.as_str(),
                want_ps1.as_str(),
                "valid 0",
                "aws is a function"
            ],
            "{how}"
        );
    }
}

/// Fake `aws` (prints its arguments, exits 7) and `aws-session` (prints new keys in
/// the format asked for, or fails with 3 when FAKE_FAIL is set).
fn install_fakes(home: &Path) -> PathBuf {
    let bin = home.join("bin");
    let aws = bin.join("aws");
    write(
        &aws,
        "#!/bin/sh\nprintf 'AWS-ARGS:'; printf '[%s]' \"$@\"; echo\nexit 7\n",
    );
    let fake = bin.join("fake-aws-session");
    write(
        &fake,
        r#"#!/bin/sh
echo "REFRESH-ARGS: $*" >&2
[ -n "$FAKE_FAIL" ] && exit 3
exp=$(( $(date +%s) + 3600 ))
case " $* " in
  *" --format fish "*) printf "set -gx AWS_SESSION_EXPIRATION '%s'\nset -gx AWS_ACCESS_KEY_ID 'NEWKEY'\n" "$exp" ;;
  *) printf "export AWS_SESSION_EXPIRATION='%s'\nexport AWS_ACCESS_KEY_ID='NEWKEY'\n" "$exp" ;;
esac
"#,
    );
    for f in [&aws, &fake] {
        fs::set_permissions(f, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    fake
}

/// The `aws` function refreshes first when the session is over or within the margin,
/// passes its arguments and exit status through, and stops when the refresh fails;
/// it refreshes with `--reuse-mfa` (a role session renews from the cached MFA session
/// without a code), while `aws-session-refresh` passes only its own options on. In
/// bash, zsh and fish.
#[test]
fn aws_function_refreshes_when_due_and_keeps_arguments_and_status() {
    let home = temp_home();
    let fake = install_fakes(home.path());
    let posix = r#"
export AWS_ACCESS_KEY_ID=OLDKEY
export AWS_SESSION_EXPIRATION=$(( $(date +%s) + 3600 ))
aws "a b" c; echo "RC-$? KEY-$AWS_ACCESS_KEY_ID"
export AWS_SESSION_EXPIRATION=$(( $(date +%s) + 30 ))
aws x; echo "RC-$? KEY-$AWS_ACCESS_KEY_ID"
export AWS_SESSION_EXPIRATION=$(( $(date +%s) - 30 ))
FAKE_FAIL=1 aws y; echo "RC-$?"
aws-session-refresh --profile p; echo "RC-$? KEY-$AWS_ACCESS_KEY_ID"
"#;
    let fish = r#"
set -gx AWS_ACCESS_KEY_ID OLDKEY
set -gx AWS_SESSION_EXPIRATION (math (date +%s) + 3600)
aws "a b" c; echo "RC-$status KEY-$AWS_ACCESS_KEY_ID"
set -gx AWS_SESSION_EXPIRATION (math (date +%s) + 30)
aws x; echo "RC-$status KEY-$AWS_ACCESS_KEY_ID"
set -gx AWS_SESSION_EXPIRATION (math (date +%s) - 30)
FAKE_FAIL=1 aws y; echo "RC-$status"
aws-session-refresh --profile p; echo "RC-$status KEY-$AWS_ACCESS_KEY_ID"
"#;
    let cases = [
        ("bash", shell::bash_rc(), posix, "refresh"),
        ("zsh", shell::zsh_rc(), posix, "refresh"),
        ("fish", shell::fish_init(), fish, "refresh --format fish"),
    ];
    for (sh, rc, body, refresh) in cases {
        let rc_path = home.path().join(format!("{sh}.rc"));
        write(&rc_path, &rc);
        let script = format!("source '{}'\n{body}", rc_path.display());
        let fake_path = fake.display().to_string();
        let (out, err) = run_shell(sh, home.path(), &[("AWS_SESSION", &fake_path)], &script);
        let want_out = "AWS-ARGS:[a b][c]\nRC-7 KEY-OLDKEY\n\
                        AWS-ARGS:[x]\nRC-7 KEY-NEWKEY\n\
                        RC-3\n\
                        RC-0 KEY-NEWKEY\n";
        assert_eq!(out, want_out, "{sh} stdout (stderr: {err})");
        let want_err = format!(
            "REFRESH-ARGS: {refresh} --reuse-mfa\nREFRESH-ARGS: {refresh} --reuse-mfa\nREFRESH-ARGS: {refresh} --profile p\n"
        );
        assert_eq!(err, want_err, "{sh} stderr");
    }
}

/// fish: the user's prompt is wrapped, not replaced; it still sees `$status`; the
/// prefix comes from `aws-session prompt`; AWS_SESSION_PROMPT=0 leaves it out.
#[test]
fn fish_prompt_is_wrapped_and_sees_the_status() {
    let home = temp_home();
    let rc_path = home.path().join("init.fish");
    write(&rc_path, &shell::fish_init());
    let exp = (now() + 7230).to_string();
    let script = format!(
        r#"function fish_prompt; printf 'U[%s]> ' $status; end
source '{}'
false; echo "P1="(fish_prompt)
true; echo "P2="(fish_prompt)
set -gx AWS_SESSION_PROMPT 0
false; echo "P3="(fish_prompt)
"#,
        rc_path.display()
    );
    let (out, _) = run_shell(
        "fish",
        home.path(),
        &[
            ("AWS_SESSION", env!("CARGO_BIN_EXE_aws-session")),
            ("AWS_SESSION_EXPIRATION", &exp),
            ("AWS_SESSION_COLOR", "0"),
        ],
        &script,
    );
    assert_eq!(
        out, "P1=(aws+02h) U[1]> \nP2=(aws+02h) U[0]> \nP3=U[1]> \n",
        "{out}"
    );
}

/// bash and zsh: AWS_SESSION_PROMPT=0 (for starship or p10k users) takes the prefix
/// off and adds none.
#[test]
fn prompt_opt_out_in_bash_and_zsh() {
    let home = temp_home();
    for (sh, rc) in [("bash", shell::bash_rc()), ("zsh", shell::zsh_rc())] {
        let rc_path = home.path().join(format!("{sh}.rc"));
        write(&rc_path, &rc);
        let exp = (now() + 7230).to_string();
        let script = format!(
            r#"source '{}'
PS1='$ '
aws-session-prompt; aws-session-prompt; echo "A=[$PS1]"
AWS_SESSION_PROMPT=0
aws-session-prompt; echo "B=[$PS1]"
"#,
            rc_path.display()
        );
        let (out, _) = run_shell(
            sh,
            home.path(),
            &[("AWS_SESSION_EXPIRATION", &exp), ("AWS_SESSION_COLOR", "0")],
            &script,
        );
        assert_eq!(out, "A=[(aws+02h) $ ]\nB=[$ ]\n", "{sh}");
    }
}

/// `aws-session prompt` (for starship / p10k): the prefix for the environment,
/// nothing outside a session, colour by AWS_SESSION_COLOR unless NO_COLOR.
#[test]
fn prompt_command_prints_the_prefix_for_the_environment() {
    let home = temp_home();
    let prompt = |env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_aws-session"))
            .env_clear()
            .env("HOME", home.path())
            .envs(env.iter().copied())
            .arg("prompt")
            .output()
            .expect("run aws-session prompt");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let later = |s: i64| (now() + s).to_string();
    assert_eq!(prompt(&[]), "");
    assert_eq!(prompt(&[("AWS_SESSION_EXPIRATION", "soon")]), "");
    assert_eq!(
        prompt(&[("AWS_SESSION_EXPIRATION", &later(7230))]),
        "(aws+02h) "
    );
    assert_eq!(
        prompt(&[("AWS_SESSION_EXPIRATION", &later(-10))]),
        "(aws!exp) "
    );
    assert_eq!(
        prompt(&[
            ("AWS_SESSION_EXPIRATION", &later(200)),
            ("AWS_SESSION_COLOR", "1")
        ]),
        "(aws+\x1b[33m03m\x1b[39m) "
    );
    assert_eq!(
        prompt(&[
            ("AWS_SESSION_EXPIRATION", &later(200)),
            ("AWS_SESSION_COLORS", "1"),
            ("NO_COLOR", "1")
        ]),
        "(aws+03m) "
    );
}

/// The private rc directory: 0700, reused (and made private again), and refused when
/// it is a symlink or others may write to it.
#[test]
fn private_dir_is_0700_reused_and_refuses_what_others_control() {
    let base = tempfile::tempdir().expect("temp dir");
    let tmp = base.path().to_str().expect("utf-8 temp path");
    let dir = shell::private_dir(None, Some(tmp)).expect("a private dir");
    assert!(dir.starts_with(base.path()));
    assert_eq!(mode(&dir), 0o700);
    let file = shell::write_private(&dir.join(".zshrc"), "one").expect("write");
    assert_eq!(mode(&file), 0o600);
    // Reused: same directory, file replaced.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).expect("chmod");
    assert_eq!(shell::private_dir(None, Some(tmp)).expect("again"), dir);
    assert_eq!(mode(&dir), 0o700, "read access for others is taken away");
    shell::write_private(&file, "two").expect("rewrite");
    assert_eq!(fs::read_to_string(&file).expect("read"), "two");
    // Writable by others: someone may have put files in it.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let e = shell::private_dir(None, Some(tmp)).expect_err("others may write");
    assert!(e.to_string().contains(&dir.display().to_string()), "{e}");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    // A symlink in its place.
    fs::remove_dir_all(&dir).expect("remove");
    let elsewhere = base.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    symlink(&elsewhere, &dir).expect("symlink");
    assert!(shell::private_dir(None, Some(tmp)).is_err());
    // XDG_RUNTIME_DIR first, when it is a directory.
    let run = base.path().join("run");
    fs::create_dir(&run).expect("mkdir");
    let d = shell::private_dir(run.to_str(), Some(tmp)).expect("runtime dir");
    assert_eq!(d, run.join("aws-session"));
}

/// Where the prompt turns `!` into the history number (zsh with PROMPT_BANG, bash in
/// POSIX mode), the expired prefix still shows `(aws!exp)`, and does not stack.
#[test]
fn expired_prefix_survives_prompt_bang_expansion() {
    let home = temp_home();
    let cases = [
        (
            "zsh",
            shell::zsh_rc(),
            "setopt promptbang",
            r#"print -rP -- "$PS1""#,
        ),
        (
            "bash",
            shell::bash_rc(),
            "set -o posix",
            r#"echo "${PS1@P}""#,
        ),
    ];
    for (sh, rc, option, render) in cases {
        let rc_path = home.path().join(format!("{sh}.rc"));
        write(&rc_path, &rc);
        let script = format!(
            "source '{}'\n{option}\nPS1='$ '\naws-session-prompt\naws-session-prompt\n{render}\n",
            rc_path.display()
        );
        let (out, _) = run_shell(
            sh,
            home.path(),
            &[("AWS_SESSION_EXPIRATION", "1"), ("AWS_SESSION_COLOR", "0")],
            &script,
        );
        // bash renders a `$ ` prompt as `# ` for root.
        assert!(
            out == "(aws!exp) $ \n" || out == "(aws!exp) # \n",
            "{sh}: {out:?}"
        );
    }
}

/// A user alias named `aws` (`alias aws='aws --profile x'`) does not break the rc
/// text: the functions are defined with `function NAME {`, which aliases cannot
/// reach, and the alias then calls the function.
#[test]
fn user_aliases_do_not_break_the_rc() {
    let home = temp_home();
    let fake = install_fakes(home.path());
    let fake_path = fake.display().to_string();
    for (sh, rc, setup) in [
        ("bash", shell::bash_rc(), "shopt -s expand_aliases"),
        ("zsh", shell::zsh_rc(), ":"),
    ] {
        let rc_path = home.path().join(format!("{sh}.rc"));
        write(&rc_path, &rc);
        // Sourced, so that each line is parsed after the one before ran (as in an
        // interactive shell; zsh parses a whole `-c` string first).
        let body = home.path().join(format!("{sh}-body"));
        write(
            &body,
            &format!(
                "{setup}\nalias aws='aws --region eu-west-1'\nsource '{}'\n\
                 export AWS_SESSION_EXPIRATION=1\naws sts x\necho \"RC-$?\"\n",
                rc_path.display()
            ),
        );
        let script = format!("source '{}'", body.display());
        let (out, err) = run_shell(sh, home.path(), &[("AWS_SESSION", &fake_path)], &script);
        // The function ran (it refreshed first), with the alias's arguments.
        assert_eq!(
            out, "AWS-ARGS:[--region][eu-west-1][sts][x]\nRC-7\n",
            "{sh} (stderr: {err})"
        );
        assert_eq!(err, "REFRESH-ARGS: refresh --reuse-mfa\n", "{sh}");
    }
}

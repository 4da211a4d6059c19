#!/usr/bin/env bash
# install-acm-certificate.sh: the body of the SSM Command document Install-ACMCertificate.
#
# Installs a certificate exported from AWS Certificate Manager on this server: reads the exported
# private key and the passphrase that decrypts it from one Secrets Manager secret version, checks
# the key, the certificate and the chain, and replaces the installed files atomically; runs an
# optional, allow-listed reload command and rolls the files back byte for byte when it fails.
# An install also repairs drift: only files exactly as wanted (bytes, mode, owner) are left alone.
#
# Formats (optional) adds files besides the three PEM files, in the key directory and installed
# like the key (KeyMode, Owner:Group): "combined" (<CertName>-combined.pem: full chain then key,
# for HAProxy) and "pkcs12" or "pkcs12-legacy" (<CertName>.p12: key, certificate and chain,
# friendly name CertName, protected with the secret version's pkcs12-password; pkcs12 uses
# AES-256-CBC, PBKDF2 and an HMAC-SHA256 MAC, pkcs12-legacy 3DES and SHA-1 for old Java and
# Windows). A format's file that Formats does not name is removed, with the same rollback.
#
# Mode=Verify checks the installed files against the Certificate and CertificateChain passed
# instead, and changes nothing: no secret is read (no AWS CLI or credentials needed), nothing is
# written or reloaded. It exits 0 whenever it could check, with outcome "verified" or "drift" and
# the problems found as short codes in the summary's "problems" (see docs/target-install.md).
#
# Input: environment variables SSM_<Name>, set by the SSM agent from the document parameters
# (interpolationType ENV_VAR, SSM Agent 3.3.2746.0 or later); see docs/target-install.md. Local
# stand-in servers also set
#   ACM_CERT_EXPORT_ROOT  a directory every path is placed under, the reload command's executable
#                         and the reload allow-list included (never set on AWS)
#   AWS_ENDPOINT_URL      read by the AWS CLI itself (and by the python3 reader below)
#
# Exit codes (the last line of stdout is always one JSON summary object, see below):
#   0  installed, or the same certificate was already installed (outcome "unchanged", no reload);
#      Mode=Verify: checked (outcome "verified", or "drift" with the problems found)
#   10 bad parameters                                   (outcome "bad-parameters")
#   11 passphrase secret not readable                   (outcome "secret-unreadable")
#   12 validation failed: wrong passphrase, key/certificate mismatch, outside the validity
#      period, chain does not verify                    (outcome "validation-failed")
#   13 downgrade refused: the installed certificate has a later NotBefore and Force is false
#                                                       (outcome "downgrade-refused")
#   14 reload failed; the files were rolled back byte for byte
#                                                       (outcome "reload-failed-rolled-back")
#   15 install failed (filesystem error, interrupted); the server was left unchanged
#                                                       (outcome "install-failed")
#   16 rollback failed after a failed reload or install (outcome "rollback-failed")
#   17 the SSM Agent passed no parameters: it is older than 3.3.2746.0, which ENV_VAR parameters
#      need                                               (outcome "agent-too-old")
#   18 the reload command is not in this server's allow-list
#      /etc/acm-cert-export/reload-commands               (outcome "reload-not-allowed")
#
# Summary: {"outcome":…,"serial":…,"notBefore":…,"notAfter":…,"sha256":…,"files":[…],
#           "reloaded":true|false,"message":…}; unknown fields are null. It never holds a secret.
#           Mode=Verify adds "problems":[…] before "message"; serial, dates and sha256 are then
#           those of the installed certificate, and files the paths checked.
#
# The secret version holds the passphrase and the encrypted key (the format is in
# docs/target-install.md); neither is ever a command parameter, since Run Command keeps parameters
# in its history. Neither appears in a process's arguments or environment, nor in any output: the
# AWS CLI (or, without it, the python3 reader below) writes the secret to a file in a private
# temporary directory, and openssl reads the passphrase with -passin file:.

# The SSM agent runs the script with `sh`: re-run it under bash when it is not already.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi

set -u -o pipefail
umask 077
export LC_ALL=C

# Parameter patterns and defaults. ssm/build-document.ts copies them into the document, so
# the document and this script always agree; the script checks them again because it must
# be safe when run by hand, and because AWS's regex dialect lets "$" match before a final
# newline.
readonly PATTERN_CertName='^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
readonly PATTERN_Certificate='^[A-Za-z0-9+/=]+$'
readonly PATTERN_CertificateChain='^[A-Za-z0-9+/=]+$'
readonly PATTERN_SecretId='^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:)?acm-passphrase/[A-Za-z0-9/_+=.@-]{1,400}$'
readonly PATTERN_SecretVersionId='^[A-Za-z0-9-]{32,64}$'
readonly PATTERN_CertDir='^/[A-Za-z0-9._/-]*$'
readonly PATTERN_KeyDir='^/[A-Za-z0-9._/-]*$'
readonly PATTERN_Owner='^[a-z_][a-z0-9_-]{0,31}$'
readonly PATTERN_Group='^[a-z_][a-z0-9_-]{0,31}$'
readonly PATTERN_KeyMode='^0?[0-7]{3}$'
readonly PATTERN_ReloadCommand='^(/[A-Za-z0-9 ._/:@=,+-]{0,255})?$'
readonly PATTERN_Force='^(true|false)$'
readonly PATTERN_Mode='^(Install|Verify)$'
readonly PATTERN_Formats='^(combined|combined,pkcs12|combined,pkcs12-legacy|pkcs12|pkcs12-legacy)?$'
readonly DEFAULT_CertDir='/etc/ssl/certs'
readonly DEFAULT_KeyDir='/etc/ssl/private'
readonly DEFAULT_Owner='root'
readonly DEFAULT_Group='root'
readonly DEFAULT_KeyMode='600'
readonly DEFAULT_ReloadCommand=''
readonly DEFAULT_Force='false'
readonly DEFAULT_Mode='Install'
readonly DEFAULT_Formats=''

readonly TEMP_PREFIX='.acm-install.'
# Reload commands this server allows, one per line (see docs/target-install.md).
readonly RELOAD_ALLOW_LIST='/etc/acm-cert-export/reload-commands'
# The first SSM Agent that passes ENV_VAR parameters as SSM_<Name> variables.
readonly MIN_AGENT_VERSION='3.3.2746.0'
# First line of the secret version's text (the worker writes it; see docs/target-install.md).
readonly SECRET_FORMAT='acm-cert-export-secret v1'

# Summary fields, filled in as they become known.
outcome=''
serial=''
not_before=''
not_after=''
sha256=''
reloaded=false
files_written=()
problems=()         # Mode=Verify: the problem codes found, in the order checked
run_mode=''         # Install | Verify, once the parameters are read

tmp=''
temp_files=()       # temporary and backup files in the target directories
renamed_targets=()  # targets already replaced, in order
declare -A backup_of=()
phase='checking'    # checking | installing | reloading | installed
finished=false
keep_backups=false  # after a failed rollback the backups are the only copy of the old files
lock_fd=''

log() {
  printf 'install-acm-certificate: %s\n' "$*" >&2
}

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=$(printf '%s' "$s" | tr -d '\001-\010\013\014\016-\037\177')
  printf '"%s"' "$s"
}

json_or_null() {
  if [ -z "$1" ]; then printf 'null'; else json_string "$1"; fi
}

print_summary() {
  local message=$1 files='' f
  for f in "${files_written[@]}"; do
    files+="${files:+,}$(json_string "$f")"
  done
  local verify=''
  if [ "$run_mode" = Verify ]; then
    for f in "${problems[@]}"; do
      verify+="${verify:+,}$(json_string "$f")"
    done
    verify=",\"problems\":[$verify]"
  fi
  printf '{"outcome":%s,"serial":%s,"notBefore":%s,"notAfter":%s,"sha256":%s,"files":[%s],"reloaded":%s%s,"message":%s}\n' \
    "$(json_string "$outcome")" "$(json_or_null "$serial")" "$(json_or_null "$not_before")" \
    "$(json_or_null "$not_after")" "$(json_or_null "$sha256")" "$files" "$reloaded" "$verify" \
    "$(json_string "$message")"
}

# finish CODE OUTCOME MESSAGE: prints the summary as the last line of stdout and exits.
finish() {
  finished=true
  outcome=$2
  if [ "$1" -ne 0 ]; then log "$3"; fi
  print_summary "$3"
  exit "$1"
}

bad_parameter() { finish 10 bad-parameters "$1"; }
validation_failed() { finish 12 validation-failed "$1"; }
install_failed() { finish 15 install-failed "$1"; }
# unreadable WHAT: the secret version is not readable, or not what the script needs.
unreadable() { finish 11 secret-unreadable "the secret $secret_id version $secret_version $1"; }
# rollback_failed WHAT: the previous files are not all back; their backups are kept.
rollback_failed() {
  keep_backups=true
  finish 16 rollback-failed "$1 and the previous files could not all be restored; the previous files are kept next to them as ${TEMP_PREFIX}*.previous.*"
}

# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  local code=$? f
  trap - EXIT INT TERM HUP
  if [ "$finished" != true ]; then
    # Reached only through an unexpected error: report it like any other exit.
    finished=true
    outcome=install-failed
    files_written=()
    print_summary "unexpected error (exit status $code)"
    code=15
  fi
  for f in "${temp_files[@]}"; do
    if [ "$keep_backups" = true ] && [[ $f == *.previous.* ]]; then
      log "kept the previous file as $f"
      continue
    fi
    rm -f -- "$f"
  done
  if [ -n "$tmp" ]; then rm -rf -- "$tmp"; fi
  exit "$code"
}

# Undoes the renames done so far. Returns non-zero when a target could not be restored.
rollback() {
  local i target backup status=0
  for ((i = ${#renamed_targets[@]} - 1; i >= 0; i--)); do
    target=${renamed_targets[i]}
    backup=${backup_of[$target]:-}
    if [ -n "$backup" ]; then
      mv -fT -- "$backup" "$target" || status=1
    else
      rm -f -- "$target" || status=1
    fi
  done
  renamed_targets=()
  return "$status"
}

# shellcheck disable=SC2329 # invoked by the signal traps
on_signal() {
  local signal=$1
  if [ "$finished" = true ]; then return; fi
  case $phase in
    installing | reloading)
      if rollback; then
        files_written=()
        install_failed "interrupted by SIG$signal; the previous files were restored"
      fi
      rollback_failed "interrupted by SIG$signal"
      ;;
    installed) finish 0 installed "certificate $serial installed as $cert_name (SIG$signal received at the end)" ;;
    *) install_failed "interrupted by SIG$signal before anything was changed" ;;
  esac
}

trap cleanup EXIT
for sig in INT TERM HUP; do
  # shellcheck disable=SC2064 # the signal's name is fixed when the trap is set
  trap "on_signal $sig" "$sig"
done

# ---- parameters ---------------------------------------------------------------------------

# An agent older than MIN_AGENT_VERSION ignores interpolationType ENV_VAR and sets no SSM_*
# variable at all, not even for parameters with a default: say so rather than "bad parameters".
if ! compgen -e | grep -q '^SSM_'; then
  finish 17 agent-too-old "no SSM_* parameter reached the script: the SSM Agent is older than $MIN_AGENT_VERSION, which ENV_VAR parameters need; update it (by hand: set SSM_<Name> variables)"
fi

cert_name=${SSM_CertName-}
cert_b64=${SSM_Certificate-}
chain_b64=${SSM_CertificateChain-}
secret_id=${SSM_SecretId-}
secret_version=${SSM_SecretVersionId-}
cert_dir=${SSM_CertDir-$DEFAULT_CertDir}
key_dir=${SSM_KeyDir-$DEFAULT_KeyDir}
owner=${SSM_Owner-$DEFAULT_Owner}
group=${SSM_Group-$DEFAULT_Group}
key_mode=${SSM_KeyMode-$DEFAULT_KeyMode}
reload_command=${SSM_ReloadCommand-$DEFAULT_ReloadCommand}
force=${SSM_Force-$DEFAULT_Force}
run_mode=${SSM_Mode-$DEFAULT_Mode}
formats=${SSM_Formats-$DEFAULT_Formats}
root=${ACM_CERT_EXPORT_ROOT-}

# require NAME VALUE PATTERN: the value must match the document's allowedPattern.
require() {
  [[ $2 =~ $3 ]] || bad_parameter "parameter $1 is missing or does not match $3"
}

# A directory parameter: absolute, no "." or ".." segment.
require_dir() {
  require "$1" "$2" "$3"
  if [ "${#2}" -gt 256 ]; then bad_parameter "parameter $1 is longer than 256 characters"; fi
  local segment
  local -a segments
  IFS=/ read -r -a segments <<<"$2"
  for segment in "${segments[@]}"; do
    if [ "$segment" = . ] || [ "$segment" = .. ]; then
      bad_parameter "parameter $1 must not contain a \".\" or \"..\" path segment"
    fi
  done
}

require CertName "$cert_name" "$PATTERN_CertName"
case $cert_name in
  *..* | */* | .*) bad_parameter "parameter CertName must not contain \"..\" or \"/\" or start with \".\"" ;;
esac
require Certificate "$cert_b64" "$PATTERN_Certificate"
require CertificateChain "$chain_b64" "$PATTERN_CertificateChain"
require SecretId "$secret_id" "$PATTERN_SecretId"
require SecretVersionId "$secret_version" "$PATTERN_SecretVersionId"
require_dir CertDir "$cert_dir" "$PATTERN_CertDir"
require_dir KeyDir "$key_dir" "$PATTERN_KeyDir"
require Owner "$owner" "$PATTERN_Owner"
require Group "$group" "$PATTERN_Group"
require KeyMode "$key_mode" "$PATTERN_KeyMode"
require ReloadCommand "$reload_command" "$PATTERN_ReloadCommand"
require Force "$force" "$PATTERN_Force"
require Mode "$run_mode" "$PATTERN_Mode"
require Formats "$formats" "$PATTERN_Formats"

# The pattern allows each format once, in one order, and one PKCS#12 profile at most (both
# write <CertName>.p12).
want_combined=false
if [[ $formats == combined* ]]; then want_combined=true; fi
p12_profile=${formats#combined}
p12_profile=${p12_profile#,}

key_mode=${key_mode: -3}
# The key may be readable by its owner and group only, and writable by its owner only.
case $key_mode in
  400 | 440 | 600 | 640) ;;
  *) bad_parameter "parameter KeyMode $key_mode would make the key group-writable, world-accessible or executable: use 600, 640, 400 or 440" ;;
esac

if [ -n "$root" ]; then
  if [[ $root != /* ]] || [ ! -d "$root" ]; then
    bad_parameter "ACM_CERT_EXPORT_ROOT must be an existing absolute directory"
  fi
  root=${root%/}
fi

# Words split on spaces, never evaluated by a shell: no expansion, quoting or redirection.
reload_argv=()
read -r -a reload_argv <<<"$reload_command"
reload_exec=''
if [ "${#reload_argv[@]}" -gt 0 ] && [ "$run_mode" = Install ]; then
  # A reload runs as root, so this server's operator decides which ones may run: the exact
  # command (words joined by one space) must be a line of the allow-list, a file only root may
  # change. Anyone allowed to deploy could otherwise run any command as root here.
  allow_list=$root$RELOAD_ALLOW_LIST
  wanted="${reload_argv[*]}"
  not_allowed() { finish 18 reload-not-allowed "reload command \"$wanted\" refused: $1"; }
  if [ ! -f "$allow_list" ]; then
    not_allowed "this server has no allow-list $RELOAD_ALLOW_LIST (one allowed command per line)"
  fi
  if [ "$(id -u)" -eq 0 ] && { [ "$(stat -c '%u' -- "$allow_list")" != 0 ] || [ -n "$(find "$allow_list" -maxdepth 0 -perm /022)" ]; }; then
    not_allowed "$RELOAD_ALLOW_LIST must be owned by root and writable by root only"
  fi
  allowed=false
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    read -r -a words <<<"$line"
    if [ "${#words[@]}" -gt 0 ] && [ "${words[*]}" = "$wanted" ]; then allowed=true; fi
  done <"$allow_list"
  if [ "$allowed" != true ]; then
    not_allowed "it is not a line of $RELOAD_ALLOW_LIST on this server"
  fi
  # Under a stand-in root the executable lives there too: nothing of the host is ever run.
  reload_exec=$root${reload_argv[0]}
  if [ ! -x "$reload_exec" ] || [ -d "$reload_exec" ]; then
    not_allowed "${reload_argv[0]} is not an executable file on this server"
  fi
fi

# Owners are set only when running as root (always the case under the SSM agent). Local
# stand-in servers running unprivileged keep the files owned by the user running the script.
do_chown=false
if [ "$(id -u)" -eq 0 ]; then
  do_chown=true
  getent passwd "$owner" >/dev/null || bad_parameter "owner $owner does not exist on this server"
  getent group "$group" >/dev/null || bad_parameter "group $group does not exist on this server"
else
  log "not running as root: files keep the current user as owner"
fi

for tool in openssl base64 date mktemp; do
  command -v "$tool" &>/dev/null || install_failed "required tool $tool is not installed"
done

# ---- private working directory ------------------------------------------------------------

tmp_base=${TMPDIR:-/tmp}
if [ -n "$root" ]; then
  tmp_base=$root/tmp
  mkdir -p -- "$tmp_base" || install_failed "cannot create $tmp_base"
fi
tmp=$(mktemp -d -- "$tmp_base/acm-cert-install.XXXXXXXX") ||
  install_failed "cannot create a private temporary directory in $tmp_base"
chmod 700 -- "$tmp" || install_failed "cannot make $tmp private"

# decode NAME BASE64 FILE: decodes a base64 parameter; bad base64 is a bad parameter.
decode() {
  printf '%s' "$2" | base64 -d >"$3" 2>/dev/null || bad_parameter "parameter $1 is not valid base64"
  # Make sure the file ends with a newline so that files can be concatenated.
  if [ -s "$3" ] && [ -n "$(tail -c 1 -- "$3")" ]; then printf '\n' >>"$3"; fi
}

# count_blocks FILE LABEL: the number of PEM blocks of that type.
count_blocks() {
  grep -c -- "^-----BEGIN $2-----" "$1" || true
}

decode Certificate "$cert_b64" "$tmp/cert.pem"
decode CertificateChain "$chain_b64" "$tmp/chain.pem"
[ "$(count_blocks "$tmp/cert.pem" CERTIFICATE)" -eq 1 ] ||
  bad_parameter "parameter Certificate must hold exactly one PEM certificate"
[ "$(count_blocks "$tmp/chain.pem" CERTIFICATE)" -ge 1 ] ||
  bad_parameter "parameter CertificateChain must hold at least one PEM certificate"
if grep -q -- 'PRIVATE KEY-----' "$tmp/cert.pem" "$tmp/chain.pem"; then
  bad_parameter "parameters Certificate and CertificateChain must not hold a private key"
fi

# ---- certificate facts ----------------------------------------------------------------------

# iso_date OPENSSL_DATE: "Jan  2 03:04:05 2026 GMT" -> 2026-01-02T03:04:05Z
iso_date() { date -u -d "$1" '+%Y-%m-%dT%H:%M:%SZ' 2>/dev/null; }
epoch_of() { date -u -d "$1" '+%s' 2>/dev/null; }

# cert_facts FILE: sets facts_serial, facts_start, facts_end (openssl's date format) and
# facts_sha256 from the first certificate in FILE. Fails when openssl cannot read it.
cert_facts() {
  local out line
  facts_serial='' facts_start='' facts_end='' facts_sha256=''
  out=$(openssl x509 -in "$1" -noout -serial -startdate -enddate -fingerprint -sha256 2>/dev/null) ||
    return 1
  while IFS= read -r line; do
    case $line in
      serial=*) facts_serial=${line#serial=} ;;
      notBefore=*) facts_start=${line#notBefore=} ;;
      notAfter=*) facts_end=${line#notAfter=} ;;
      [Ss][Hh][Aa]256\ [Ff]ingerprint=*) facts_sha256=${line#*=} ;;
    esac
  done <<<"$out"
  [ -n "$facts_start" ] && [ -n "$facts_end" ] && [ -n "$facts_sha256" ]
}

cert_facts "$tmp/cert.pem" || validation_failed "the certificate cannot be parsed"
new_start=$facts_start
new_end=$facts_end
new_sha256=$facts_sha256
serial=$facts_serial
sha256=$facts_sha256
not_before=$(iso_date "$new_start")
not_after=$(iso_date "$new_end")
new_start_epoch=$(epoch_of "$new_start") || validation_failed "cannot read the certificate's NotBefore"
new_end_epoch=$(epoch_of "$new_end") || validation_failed "cannot read the certificate's NotAfter"

# ---- the files --------------------------------------------------------------------------------

cert_dir_path=$root${cert_dir%/}
key_dir_path=$root${key_dir%/}
fullchain_path=$cert_dir_path/$cert_name-fullchain.pem
chain_path=$cert_dir_path/$cert_name-chain.pem
key_path=$key_dir_path/$cert_name-privkey.pem
targets=("$fullchain_path" "$chain_path" "$key_path")
declare -A mode_of=([$fullchain_path]=644 [$chain_path]=644 [$key_path]=$key_mode)
declare -A kind_of=([$fullchain_path]=cert [$chain_path]=chain [$key_path]=key)
# The optional formats live next to the key and are installed like it: they hold the key.
combined_path=$key_dir_path/$cert_name-combined.pem
p12_path=$key_dir_path/$cert_name.p12
mode_of+=([$combined_path]=$key_mode [$p12_path]=$key_mode)
kind_of+=([$combined_path]=combined [$p12_path]=pkcs12)
stale=()
if [ "$want_combined" = true ]; then targets+=("$combined_path"); else stale+=("$combined_path"); fi
if [ -n "$p12_profile" ]; then targets+=("$p12_path"); else stale+=("$p12_path"); fi
# The files of formats no longer asked for, which an install removes (a directory is not ours).
removing=()
for t in "${stale[@]}"; do
  if [ -L "$t" ] || [ -f "$t" ]; then removing+=("$t"); fi
done

cat -- "$tmp/cert.pem" "$tmp/chain.pem" >"$tmp/fullchain.pem" ||
  install_failed "cannot assemble the full chain"

# ---- Mode=Verify: compare the installed files with the certificate passed; change nothing ----

notes=''
# problem CODE NOTE: a finding of Verify; each code is listed once, every note is kept.
problem() {
  [[ " ${problems[*]} " == *" $1 "* ]] || problems+=("$1")
  notes+="${notes:+; }$2"
}

# verify_installed: reads the installed files (never the secret) and finishes with "verified" or
# "drift", exit 0. Writes nothing but the private temporary directory.
verify_installed() {
  local t k rel than start want=$serial want_start=$not_before pub=$tmp/installed.pub
  serial='' not_before='' not_after='' sha256=''
  files_written=("${targets[@]}")
  # An install holds this lock while it replaces the files: wait for it, not for ever.
  if command -v flock &>/dev/null && [ -d "$key_dir_path" ] && exec {lock_fd}<"$key_dir_path"; then
    flock -s -w 120 "$lock_fd" || log "an install into $key_dir_path still runs: checking the files as they are"
  fi
  for t in "${targets[@]}"; do
    k=${kind_of[$t]}
    if [ ! -e "$t" ] && [ ! -L "$t" ]; then
      problem "$k-missing" "$t is missing"
      continue
    fi
    if [ ! -f "$t" ] || [ ! -r "$t" ]; then
      problem unreadable "$t is not a readable file"
      continue
    fi
    case $k in key | combined | pkcs12) k=key ;; *) k=cert ;; esac
    rel=$(stat -c '%a' -- "$t")
    [ "$rel" = "${mode_of[$t]}" ] || problem "$k-mode" "$t has mode $rel, not ${mode_of[$t]}"
    if [ "$do_chown" = true ]; then
      rel=$(stat -c '%U:%G' -- "$t")
      [ "$rel" = "$owner:$group" ] || problem owner "$t is owned by $rel, not $owner:$group"
    fi
  done
  if [ -f "$fullchain_path" ] && [ -r "$fullchain_path" ]; then
    if cert_facts "$fullchain_path"; then
      serial=$facts_serial
      sha256=$facts_sha256
      not_before=$(iso_date "$facts_start")
      not_after=$(iso_date "$facts_end")
      openssl x509 -in "$fullchain_path" -noout -pubkey >"$pub" 2>/dev/null
      start=$(epoch_of "$facts_start") || start=$new_start_epoch
      rel=differs than=not
      if [ "$start" -lt "$new_start_epoch" ]; then rel=older than='older than'; fi
      if [ "$start" -gt "$new_start_epoch" ]; then rel=newer than='newer than'; fi
      if [ "$serial" != "$want" ]; then
        problem "serial-$rel" "the installed certificate $serial (NotBefore $not_before) is $than $want ($want_start)"
      elif ! cmp -s -- "$tmp/fullchain.pem" "$fullchain_path"; then
        problem cert-differs "$fullchain_path holds $serial but not the expected certificate and chain"
      fi
    else
      problem unreadable "$fullchain_path is not a certificate"
    fi
  fi
  if [ -f "$chain_path" ] && [ -r "$chain_path" ] && ! cmp -s -- "$tmp/chain.pem" "$chain_path"; then
    problem chain-differs "$chain_path is not the expected chain"
  fi
  if [ -f "$key_path" ] && [ -r "$key_path" ]; then
    # Public keys compared: no key material is printed or kept.
    rel=installed
    if [ ! -s "$pub" ]; then
      rel=expected
      openssl x509 -in "$tmp/cert.pem" -noout -pubkey >"$pub"
    fi
    if ! openssl pkey -in "$key_path" -passin pass: -pubout -out "$tmp/key.pub" 2>/dev/null; then
      problem unreadable "$key_path is not an unencrypted private key"
    elif ! cmp -s -- "$tmp/key.pub" "$pub"; then
      problem key-mismatch "$key_path does not match the $rel certificate"
    fi
  fi
  # The combined file: exactly the expected full chain followed by the installed key. The
  # PKCS#12 file needs its password, from the secret: only its presence, mode and owner count.
  if [ "$want_combined" = true ] && [ -f "$combined_path" ] && [ -r "$key_path" ] &&
    ! cat -- "$tmp/fullchain.pem" "$key_path" | cmp -s - "$combined_path"; then
    problem combined-differs "$combined_path is not the full chain and the installed key"
  fi
  for t in "${removing[@]}"; do problem format-extra "$t is not asked for"; done
  if [ "${#problems[@]}" -eq 0 ]; then
    finish 0 verified "certificate $serial is installed as $cert_name as expected (files, modes, owner, key)"
  fi
  rel="an Install of $want repairs it"
  [[ " ${problems[*]} " != *' serial-newer '* ]] || rel="an Install of $want is a downgrade: it needs Force=true"
  finish 0 drift "$cert_name differs from certificate $want: $notes; $rel"
}

if [ "$run_mode" = Verify ]; then verify_installed; fi

# ---- the secret: passphrase and encrypted key ------------------------------------------------

# The region: from the secret's ARN, else from the environment the agent or the CLI provide.
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-${AWS_SSM_REGION_NAME:-}}}
if [[ $secret_id == arn:* ]]; then
  IFS=: read -r _ _ _ region _ <<<"$secret_id"
fi
# Without the AWS CLI, python3's standard library reads the secret version (Python 3.6 or later,
# no other module; RHEL 8's platform-python where there is no python3): it signs GetSecretValue with SigV4 itself and writes the SecretString to
# stdout, as the CLI does, or one line naming what failed to stderr. Arguments: secret id,
# version id, region, stand-in root. Credentials, in this order: the environment
# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the shared credentials file
# ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile $AWS_PROFILE or default: where
# SSM Agent puts a hybrid node's credentials by default); then on a hybrid node (an
# AWS_SSM_INSTANCE_ID starting with mi-) the agent's own store /var/lib/amazon/ssm/credentials,
# else EC2 instance metadata (IMDSv2, 2-second timeouts; AWS_EC2_METADATA_DISABLED and
# AWS_EC2_METADATA_SERVICE_ENDPOINT as the CLI reads them). Endpoint:
# AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL or the region's. AWS_SDK_UA_APP_ID is put
# in the User-Agent as app/<id>, as the CLI does. Throttling, 5xx replies and connection errors
# are tried 3 times with a random backoff, as the CLI's standard retry mode does. An AWS error
# is said as "<type>: <message>", nothing else of the reply; anything unforeseen as the
# exception's type (and a missing module's name), never its text. The program is indented by one
# space and has no comment or blank line: build-document.ts carries a quoted word as it is.
reader_py='import sys;sys.excepthook=lambda t,v,b:sys.stderr.write("python3: %s %s\n"%(t.__name__,getattr(v,"name","")or""))
import os,json,hmac,hashlib,random,time,configparser,urllib.request as U,urllib.error as E
from urllib.parse import urlsplit
sid,ver,region,root=sys.argv[1:5]
env=os.environ.get
tried=[]
def fail(m):
 sys.stderr.write(m+"\n");sys.exit(1)
def why(x):
 return str(getattr(x,"reason",x)) or type(x).__name__
def ini(name,path,prof):
 name+=" "+path+": "
 p=configparser.RawConfigParser()
 try:
  with open(path,encoding="utf-8") as f:p.read_file(f)
 except FileNotFoundError:return tried.append(name+"none")
 except Exception as x:return tried.append(name+"unreadable ("+type(x).__name__+")")
 s=p[prof] if p.has_section(prof) else {}
 k=[s.get("aws_"+n) for n in ("access_key_id","secret_access_key","session_token")]
 if k[0] and k[1]:return k
 tried.append(name+"no keys in ["+prof+"]")
def imds():
 if env("AWS_EC2_METADATA_DISABLED","").lower()=="true":return tried.append("IMDS: disabled")
 base=(env("AWS_EC2_METADATA_SERVICE_ENDPOINT") or "http://169.254.169.254").rstrip("/")
 o=U.build_opener(U.ProxyHandler({}))
 def get(p,h,m="GET"):
  return o.open(U.Request(base+"/latest/"+p,headers=h,method=m),timeout=2).read().decode()
 h={}
 try:
  try:h["X-aws-ec2-metadata-token"]=get("api/token",{"X-aws-ec2-metadata-token-ttl-seconds":"300"},"PUT")
  except E.HTTPError as x:
   if x.code not in(403,404,405):raise
  p="meta-data/iam/security-credentials/"
  r=get(p,h).split()
  if not r:return tried.append("IMDS: no role attached")
  c=json.loads(get(p+r[0],h))
  return c["AccessKeyId"],c["SecretAccessKey"],c.get("Token")
 except E.HTTPError as x:tried.append("IMDS: no role attached" if x.code==404 else "IMDS: HTTP %d"%x.code)
 except (ValueError,KeyError):tried.append("IMDS: unexpected reply")
 except Exception as x:tried.append("IMDS "+base+": not reachable ("+why(x)+")")
cr=[env("AWS_"+n) for n in ("ACCESS_KEY_ID","SECRET_ACCESS_KEY","SESSION_TOKEN")]
if not(cr[0] and cr[1]):cr=tried.append("env: no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
cr=cr or ini("credentials file",env("AWS_SHARED_CREDENTIALS_FILE") or os.path.expanduser("~/.aws/credentials"),env("AWS_PROFILE") or "default")
if not cr:cr=ini("SSM Agent store",root+"/var/lib/amazon/ssm/credentials","default") if env("AWS_SSM_INSTANCE_ID","").startswith("mi-") else imds()
if not cr:fail("no AWS credentials found: "+"; ".join(tried))
if not region:fail("no region: set AWS_REGION")
ak,sk,tok=cr
ep=env("AWS_ENDPOINT_URL_SECRETS_MANAGER") or env("AWS_ENDPOINT_URL") or "https://secretsmanager."+region+".amazonaws.com"+(".cn"*region.startswith("cn-"))
u=urlsplit(ep)
body=json.dumps({"SecretId":sid,"VersionId":ver}).encode()
a=env("AWS_SDK_UA_APP_ID")
def mac(k,m):
 return hmac.new(k,m.encode(),hashlib.sha256)
def sha(b):
 return hashlib.sha256(b).hexdigest()
def call():
 t=time.strftime("%Y%m%dT%H%M%SZ",time.gmtime())
 h={"content-type":"application/x-amz-json-1.1","host":u.netloc,"x-amz-date":t,"x-amz-target":"secretsmanager.GetSecretValue"}
 if tok:h["x-amz-security-token"]=tok
 n=";".join(sorted(h))
 scope=t[:8]+"/"+region+"/secretsmanager/aws4_request"
 k=("AWS4"+sk).encode()
 for m in scope.split("/"):k=mac(k,m).digest()
 req="POST\n"+(u.path or "/")+"\n\n"+"".join(x+":"+h[x]+"\n" for x in sorted(h))+"\n"+n+"\n"+sha(body)
 h["authorization"]="AWS4-HMAC-SHA256 Credential="+ak+"/"+scope+", SignedHeaders="+n+", Signature="+mac(k,"AWS4-HMAC-SHA256\n"+t+"\n"+scope+"\n"+sha(req.encode())).hexdigest()
 h["user-agent"]="acm-cert-export python/3"+(" app/"+a if a else "")
 return U.urlopen(U.Request(ep,body,h),timeout=60).read()
for i in range(3):
 time.sleep(random.random()*2**i*(i>0))
 try:
  r=json.loads(call().decode())
  if "SecretString" not in r:fail("no SecretString")
  sys.stdout.buffer.write((r["SecretString"]+"\n").encode());sys.exit(0)
 except E.HTTPError as x:
  try:j=json.loads(x.read().decode())
  except Exception:j={}
  c="HTTP %d"%x.code
  ty=str(j.get("__type") or x.headers.get("x-amzn-ErrorType") or c).split("#")[-1].split(":")[0]
  m=ty+": "+str(j.get("message") or j.get("Message") or c)
  if x.code<500 and x.code!=429 and "Throttl" not in ty:fail(m)
 except ValueError:m="the reply is not JSON"
 except Exception as x:m="cannot reach "+ep+": "+why(x)
fail(m+" (3 attempts)")'

if command -v aws &>/dev/null; then
  AWS_PAGER='' aws secretsmanager get-secret-value --secret-id "$secret_id" --version-id "$secret_version" \
    --query SecretString --output text ${region:+--region "$region"} >"$tmp/secret" 2>"$tmp/aws.err"
elif py=$(command -v python3 || command -v "$root/usr/libexec/platform-python"); then
  "$py" -I -c "$reader_py" "$secret_id" "$secret_version" "$region" "$root" >"$tmp/secret" 2>"$tmp/aws.err"
else
  finish 11 secret-unreadable "neither the AWS CLI (aws) nor python3 is installed: the secret needs one of them (see docs/target-install.md)"
fi
# shellcheck disable=SC2181 # the status of whichever reader ran
if [ $? -ne 0 ]; then
  reason=$(grep -m 1 -o 'An error occurred.*' "$tmp/aws.err" | cut -c 1-500)
  [ -n "$reason" ] || reason=$(head -n 1 "$tmp/aws.err" | cut -c 1-500)
  unreadable "cannot be read: ${reason:-the reader exited with an error}"
fi
# Line 1 names the format, line 2 is "passphrase: <passphrase>", then the PEM blocks ACM
# exported: the encrypted key first.
if [ "$(head -n 1 -- "$tmp/secret" | tr -d '\r')" != "$SECRET_FORMAT" ]; then
  rm -f -- "$tmp/secret"
  unreadable "is not an acm-cert-export secret ($SECRET_FORMAT)"
fi
sed -n '2s/^passphrase: //p' -- "$tmp/secret" | tr -d '\r\n' >"$tmp/passphrase"
awk '/^-----BEGIN ENCRYPTED PRIVATE KEY-----/ { inside = 1 } inside { print } /^-----END ENCRYPTED PRIVATE KEY-----/ { exit }' \
  "$tmp/secret" >"$tmp/key.enc.pem"
# The PKCS#12 password: a line of its own, the same for every version of the mapping's secret
# (a keystore password in a Java server's configuration survives renewals).
if [ -n "$p12_profile" ]; then
  sed -n 's/^pkcs12-password: //p' -- "$tmp/secret" | head -n 1 | tr -d '\r\n' >"$tmp/p12-password"
  [ -s "$tmp/p12-password" ] ||
    unreadable "has no pkcs12-password line ($p12_profile needs one)"
fi
rm -f -- "$tmp/secret"
if [ ! -s "$tmp/passphrase" ]; then
  unreadable "holds no passphrase"
fi
[ "$(count_blocks "$tmp/key.enc.pem" 'ENCRYPTED PRIVATE KEY')" -eq 1 ] ||
  unreadable "holds no PEM ENCRYPTED PRIVATE KEY (PKCS#8)"

# ---- validation ---------------------------------------------------------------------------

if ! openssl pkey -in "$tmp/key.enc.pem" -passin "file:$tmp/passphrase" \
  -out "$tmp/key.pem" 2>/dev/null; then
  rm -f -- "$tmp/passphrase"
  validation_failed "the private key cannot be decrypted with the passphrase (wrong passphrase or damaged key)"
fi
rm -f -- "$tmp/passphrase"

openssl pkey -in "$tmp/key.pem" -pubout -out "$tmp/key.pub" 2>/dev/null ||
  validation_failed "cannot derive the public key from the private key"
openssl x509 -in "$tmp/cert.pem" -noout -pubkey >"$tmp/cert.pub" 2>/dev/null ||
  validation_failed "cannot read the certificate's public key"
cmp -s -- "$tmp/key.pub" "$tmp/cert.pub" ||
  validation_failed "the private key does not match the certificate"

now=$(date -u '+%s')
if [ "$now" -lt "$new_start_epoch" ]; then
  validation_failed "the certificate is not valid yet (NotBefore $not_before)"
fi
if [ "$now" -ge "$new_end_epoch" ]; then
  validation_failed "the certificate has expired (NotAfter $not_after)"
fi

# Every chain element must parse and none may be the certificate itself (it would make the
# chain check below trivially true).
awk -v dir="$tmp" '/^-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/chain-" n ".pem") }' \
  "$tmp/chain.pem" || validation_failed "cannot split the chain"
for element in "$tmp"/chain-*.pem; do
  cert_facts "$element" || validation_failed "a certificate in the chain cannot be parsed"
  if [ "$facts_sha256" = "$new_sha256" ]; then
    validation_failed "the chain contains the certificate itself"
  fi
done
# Trust anchors: the chain only, not the system store (OpenSSL 3 also has a default store).
verify_args=(-no-CApath -partial_chain -CAfile "$tmp/chain.pem")
if openssl verify -help 2>&1 | grep -q -- '-no-CAstore'; then verify_args+=(-no-CAstore); fi
if ! openssl verify "${verify_args[@]}" "$tmp/cert.pem" >"$tmp/verify.out" 2>&1; then
  reason=$(grep -m 1 -o 'error [0-9]* at [0-9]* depth lookup: .*' "$tmp/verify.out" | cut -c 1-200)
  validation_failed "the chain does not verify the certificate${reason:+ ($reason)}"
fi

# ---- compare with what is installed -------------------------------------------------------

# Missing directories: the certificate directory readable by all, the key directory private.
if [ ! -d "$cert_dir_path" ]; then
  (umask 022 && mkdir -p -- "$cert_dir_path") ||
    install_failed "cannot create the certificate directory $cert_dir_path"
fi
if [ ! -d "$key_dir_path" ]; then
  (umask 077 && mkdir -p -- "$key_dir_path") ||
    install_failed "cannot create the key directory $key_dir_path"
fi

# One install per key directory at a time (flock on the directory itself leaves no file).
if command -v flock &>/dev/null; then
  exec {lock_fd}<"$key_dir_path" || install_failed "cannot open $key_dir_path"
  flock -w 120 "$lock_fd" || install_failed "another install into $key_dir_path is still running"
fi


declare -A source_of=(
  [$fullchain_path]=$tmp/fullchain.pem
  [$chain_path]=$tmp/chain.pem
  [$key_path]=$tmp/key.pem
  [$combined_path]=$tmp/combined.pem
  [$p12_path]=$tmp/bundle.p12
)

# HAProxy's crt: the full chain (certificate first), then the key.
if [ "$want_combined" = true ] && ! cat -- "$tmp/fullchain.pem" "$tmp/key.pem" >"$tmp/combined.pem"; then
  install_failed "cannot assemble the combined file"
fi

# PKCS#12 algorithms, named explicitly so that OpenSSL 1.1 and 3 write the same thing:
# pkcs12 as OpenSSL 3 and Java 18+ do by default (PBES2: PBKDF2 and AES-256-CBC, HMAC-SHA256
# MAC); pkcs12-legacy as older Java and Windows need (3DES, SHA-1 MAC).
p12_mac=sha1 p12_alg=PBE-SHA1-3DES
if [ "$p12_profile" = pkcs12 ]; then p12_mac=sha256 p12_alg=AES-256-CBC; fi
if [ -n "$p12_profile" ] && ! openssl pkcs12 -export -keypbe $p12_alg -certpbe $p12_alg \
  -macalg $p12_mac -name "$cert_name" -inkey "$tmp/key.pem" -in "$tmp/cert.pem" \
  -certfile "$tmp/chain.pem" -passout "file:$tmp/p12-password" -out "$tmp/bundle.p12" 2>"$tmp/p12.err"; then
  log "$(head -c 300 -- "$tmp/p12.err")"
  install_failed "cannot write the PKCS#12 file"
fi

# certs FILE: the lines of FILE's certificates, sorted (the same certificates in any order).
certs() { awk '/^-----BEGIN CERT/,/^-----END CERT/' "$1" | sort; }

# p12_as_wanted FILE: an installed PKCS#12 file opens with the password and holds this key,
# certificate and chain under this friendly name, with the profile's MAC. (It is never byte for
# byte the same: every export has a fresh salt.)
p12_as_wanted() {
  local o=$tmp/p12.pem r
  openssl pkcs12 -in "$1" -passin "file:$tmp/p12-password" -info -nodes -out "$o" 2>"$o.info" &&
    grep -Eq "^MAC: ?$p12_mac\b" "$o.info" && grep -Fqx "    friendlyName: $cert_name" "$o" &&
    openssl pkey -in "$o" -pubout 2>/dev/null | cmp -s - "$tmp/cert.pub" &&
    [ "$(certs "$o")" = "$(certs "$tmp/fullchain.pem")" ]
  r=$?
  rm -f -- "$o"
  return $r
}

for target in "${targets[@]}"; do
  if [ -d "$target" ]; then install_failed "$target is a directory"; fi
done

# installed_as_wanted TARGET: the file already has the wanted bytes, mode and owner.
installed_as_wanted() {
  [ -f "$1" ] || return 1
  if [ "$1" = "$p12_path" ]; then p12_as_wanted "$1"; else cmp -s -- "${source_of[$1]}" "$1"; fi || return 1
  [ "$(stat -c '%a' -- "$1")" = "${mode_of[$1]}" ] || return 1
  if [ "$do_chown" = true ]; then
    [ "$(stat -c '%U:%G' -- "$1")" = "$owner:$group" ] || return 1
  fi
}

if [ "$force" != true ]; then
  unchanged=true
  for target in "${targets[@]}"; do
    installed_as_wanted "$target" || unchanged=false
  done
  [ "${#removing[@]}" -eq 0 ] || unchanged=false
  if [ "$unchanged" = true ]; then
    finish 0 unchanged "certificate $serial is already installed as $cert_name; nothing changed"
  fi
fi

if [ -f "$fullchain_path" ]; then
  if cert_facts "$fullchain_path" && old_start_epoch=$(epoch_of "$facts_start"); then
    old_serial=$facts_serial
    old_start=$facts_start
    if [ "$old_start_epoch" -gt "$new_start_epoch" ]; then
      if [ "$force" = true ]; then
        log "replacing the newer installed certificate $old_serial (NotBefore $(iso_date "$old_start")): Force is true"
      else
        finish 13 downgrade-refused "the installed certificate $old_serial has a later NotBefore ($(iso_date "$old_start")) than $serial ($not_before); set Force to true to replace it"
      fi
    fi
  else
    log "the installed $fullchain_path cannot be read as a certificate: replacing it"
  fi
fi

# ---- install ------------------------------------------------------------------------------

# stage TARGET: writes the new content next to TARGET under a temporary name (staged_of),
# with its mode and owner.
declare -A staged_of=()
stage() {
  local target=$1 temp
  temp=$(mktemp -- "$(dirname -- "$target")/$TEMP_PREFIX$(basename -- "$target").XXXXXXXX") || return 1
  temp_files+=("$temp")
  staged_of[$target]=$temp
  cat -- "${source_of[$target]}" >"$temp" || return 1
  chmod "${mode_of[$target]}" -- "$temp" || return 1
  if [ "$do_chown" = true ]; then chown -- "$owner:$group" "$temp" || return 1; fi
}

# keep_previous TARGET: links the current file to a backup name for a byte-for-byte rollback.
keep_previous() {
  local target=$1 backup
  [ -e "$target" ] || [ -L "$target" ] || return 0
  backup=$(mktemp -- "$(dirname -- "$target")/$TEMP_PREFIX$(basename -- "$target").previous.XXXXXXXX") || return 1
  temp_files+=("$backup")
  ln -f -- "$target" "$backup" 2>/dev/null || cp -pP -- "$target" "$backup" || return 1
  backup_of[$target]=$backup
}

for target in "${targets[@]}"; do
  stage "$target" || install_failed "cannot write a temporary file next to $target"
done
for target in "${targets[@]}" "${removing[@]}"; do
  keep_previous "$target" || install_failed "cannot keep a copy of the installed $target"
done
rm -f -- "$tmp/key.pem" "$tmp/combined.pem"

# put TARGET: renames its new file over it, or removes it (a format no longer asked for; its
# backup restores it on a rollback).
put() {
  if [ -n "${staged_of[$1]:-}" ]; then mv -fT -- "${staged_of[$1]}" "$1"; else rm -f -- "$1"; fi
}

phase=installing
for target in "${targets[@]}" "${removing[@]}"; do
  if ! put "$target"; then
    if rollback; then
      install_failed "cannot replace $target; the previous files were restored"
    fi
    rollback_failed "cannot replace $target,"
  fi
  renamed_targets+=("$target")
done
# SELinux: give the renamed files the policy's labels, not their temporary files'.
if command -v restorecon &>/dev/null && ! restorecon -F -- "${targets[@]}" 2>"$tmp/restorecon.out"; then
  log "restorecon failed; the files keep their labels: $(head -c 300 -- "$tmp/restorecon.out")"
fi
files_written=("${targets[@]}")
removed_note=${removing[*]:+; removed ${removing[*]}}

if [ "${#reload_argv[@]}" -gt 0 ]; then
  phase=reloading
  log "running the reload command: ${reload_argv[*]}"
  # The reload command must not inherit the lock: a daemon it starts would hold it forever.
  if ! (
    if [ -n "$lock_fd" ]; then exec {lock_fd}<&-; fi
    cd / && "$reload_exec" "${reload_argv[@]:1}"
  ) </dev/null >"$tmp/reload.out" 2>&1; then
    head -c 2000 -- "$tmp/reload.out" >&2
    files_written=()
    if rollback; then
      finish 14 reload-failed-rolled-back "the reload command failed; the previous files were restored byte for byte"
    fi
    files_written=("${targets[@]}")
    rollback_failed "the reload command failed"
  fi
  head -c 2000 -- "$tmp/reload.out" >&2
  reloaded=true
fi

phase='installed'
for target in "${targets[@]}" "${removing[@]}"; do
  if [ -n "${backup_of[$target]:-}" ]; then rm -f -- "${backup_of[$target]}"; fi
done
if [ "$reloaded" = true ]; then
  finish 0 installed "certificate $serial installed as $cert_name and the reload command succeeded$removed_note"
fi
finish 0 installed "certificate $serial installed as $cert_name$removed_note"

"""Every sample log in shared/realdata, ingested with `auto`: exact counts per file.

The expected counts were worked out from the files themselves, not copied from a
run. The derivation of the larger ones:

- OpenSSH_2k.log: 1 `Accepted`, 522 `Failed <method> for` lines, 2 `message
  repeated 5 times: [ Failed password ...]` (10 failures) and 1 PAM `session
  closed` give 534 events from 526 lines; the other 1474 lines are noise.
- Linux_2k.log: 372 `sshd(pam_unix)` failures naming `user=`, 246 PAM `session
  opened/closed` lines (su 172, sshd 72, login 2) give 618 events; 117 sshd and 1
  gdm PAM failures name no user and are rejected.
- security.evtx: 4624 583 times, 4672 459, 4648 45, 4647 36 and 4634 11
  (1134); the other 1127 records are other event ids.
- GitHub ASIM: 3 `user.login`, 2 `user.logout`, 1 2FA failure, 2
  `oauth_access.regenerate` and 2 `personal_access_token.create` with a hashed
  token (10); 2 `oauth_access.create` have a null `hashed_token`.
- Zeek logs and the CAEP SET examples have no adapter: every record is rejected
  as "unsupported format".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.logs.formats import UNSUPPORTED
from ledger.logs.ingest import FileTally, ingest_file
from ledger.logs.mapping import IngestOptions

# Per directory, per file: "records events rejected skipped formats-that-mapped".
EXPECTED_BY_DIRECTORY: dict[str, dict[str, str]] = {
    "azure-sentinel-sample-data": {
        "AWS_CloudTrail_Authentication_IngestedLogs.csv": "17 17 0 0 cloudtrail",
        "Auth0AM_CL.json": "6 6 0 0 auth0",
        "GWorkspace_ReportsAPI_login_CL.json": "3 2 0 1 google_workspace",
        "Microsoft_Github_ASimAuthentication_RawLogs.json": "36 10 0 26 github",
        "Okta_CL.json": "3 1 0 2 okta",
        "OneLogin_CL.json": "3 3 0 0 onelogin",
    },
    "elastic-integrations-azure": {
        "test-managed-identity-sample.log": "4 4 0 0 entra",
        "test-non-interactive-user-sample.log": "3 3 0 0 entra",
        "test-service-principal-signinlogs-sample.log": "7 7 0 0 entra",
        "test-signinlogs.log": "2 2 0 0 entra",
    },
    "elastic-integrations-gcp": {
        "test-audit.log": "11 11 0 0 gcp kubernetes",
        "test-iamcredentials-googleapis-com.log": "1 1 0 0 gcp",
    },
    "elastic-integrations-k8s": {"test-audit.log": "5 5 0 0 kubernetes"},
    "falco-k8s-audit": {
        "anonymous_creates_namespace_foo.json": "1 1 0 0 kubernetes",
        "attach_cluster_admin_role.json": "1 1 0 0 kubernetes",
        "create_service_account_token_secret.json": "1 1 0 0 kubernetes",
        "create_serviceaccount.json": "1 1 0 0 kubernetes",
        "exec_pod.json": "1 1 0 0 kubernetes",
        "minikube_creates_namespace_foo.json": "1 1 0 0 kubernetes",
        "some-user_creates_namespace_foo.json": "1 1 0 0 kubernetes",
    },
    "loghub": {
        "Linux_2k.log": "2000 618 118 1264 sshd",
        "OpenSSH_2k.log": "2000 534 0 1474 sshd",
        "OpenSSH_2k.log_structured.csv": "2000 534 0 1474 sshd",
    },
    "ocsf-examples": {
        "aws-cloudtrail-v1.1/authentication.ocsf": "1 1 0 0 ocsf",
        "aws-cloudtrail-v1.1/authentication.raw": "1 1 0 0 cloudtrail",
        # The upstream sample has a trailing comma: not valid JSON.
        "aws-cloudtrail-v1.5/authentication.ocsf": "1 0 1 0",
        # A successful CredentialChallenge is one step of a sign-in.
        "aws-cloudtrail-v1.5/authentication.raw": "1 0 0 1 cloudtrail",
        # The mapping leaves out status_id and status: the outcome is unknown.
        "github/authentication.ocsf": "1 0 0 1 ocsf",
        "github/authentication.raw": "1 1 0 0 github",
        "okta/authentication.ocsf": "1 1 0 0 ocsf",
        "okta/authentication.raw": "1 1 0 0 okta",
        "windows-4624/4624_0.event": "1 1 0 0 windows",
        "windows-4624/4624_0.json": "1 1 0 0 ocsf",
        "windows-4625/4625_0.event": "1 1 0 0 windows",
        "windows-4625/4625_0.json": "1 1 0 0 ocsf",
        "windows-evtx/security.evtx": "2261 1134 0 1127 windows",
        "zeek/kerberos.log": "13 0 13 0",
        "zeek/ntlm.log": "15 0 15 0",
        "zeek/rdp.log": "5 0 5 0",
        "zeek/ssh.log": "40 0 40 0",
    },
    "openid-sharedsignals": {"caep_ssf_example_SETs.json": "1 0 1 0"},
}
EXPECTED = {
    f"{directory}/{name}": spec
    for directory, files in EXPECTED_BY_DIRECTORY.items()
    for name, spec in files.items()
}
NOT_LOGS = {"SOURCES.md"}


def tally(path: Path) -> FileTally:
    counts = FileTally(path)
    for outcome in ingest_file(path, "auto", IngestOptions()):
        counts.add(outcome)
    return counts


def test_realdata_listing_every_file_in_table_matches(realdata: Path) -> None:
    present = {
        path.relative_to(realdata).as_posix()
        for path in realdata.rglob("*")
        if path.is_file()
    }
    assert present - NOT_LOGS == set(EXPECTED), (
        "realdata changed: add the new files to EXPECTED (or drop the gone ones)"
    )


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_realdata_file_ingests_with_exact_counts(realdata: Path, relative: str) -> None:
    words = EXPECTED[relative].split()
    expected_counts = tuple(int(word) for word in words[:4])
    expected_formats = set(words[4:])

    counts = tally(realdata / relative)

    found = (counts.records, counts.events, counts.rejected, counts.skipped)
    assert found == expected_counts
    assert {name for name, count in counts.formats.items() if count} == (
        expected_formats
    )


@pytest.mark.parametrize(
    "relative",
    sorted(name for name in EXPECTED if "/zeek/" in name or "openid" in name),
)
def test_realdata_file_without_adapter_rejected_as_unsupported(
    realdata: Path, relative: str
) -> None:
    outcomes = list(ingest_file(realdata / relative, "auto", IngestOptions()))

    assert outcomes
    assert {outcome.rejection for outcome in outcomes} == {UNSUPPORTED}

#!/usr/bin/env python3
"""Checks that template.yaml declares what Stamp's code and tests expect.

- LedgerTable: AttributeDefinitions, KeySchema, BillingMode and StreamSpecification
  (the extract-rendering function reads the stream) equal infra/aws/resources.json "table".
- ArchiveBucket: Object Lock enabled (with no default retention), versioning Enabled,
  public access fully blocked, the extracts/ prefix expiring after 7 days, and a bucket
  policy that denies non-TLS access.
- HttpApi routes: every (method, path) is declared once, every event targets the one
  HttpApi, and the set of (function, method, path, auth) equals infra/aws/routes.json,
  which the Rust routers are checked against too.
- Functions: each is built by cargo-lambda from the workspace root, with a Binary that
  is a package under functions/.
- IAM: every function's Policies are explicit inline statements (no SAM policy templates
  or managed policies), with no wildcard actions or resources, and every action exists
  (cfn-lint's W3037 does this for plain CloudFormation but skips SAM templates).

Usage: check_template_resources.py [--repo DIR] [--template FILE]
Needs PyYAML (a dependency of cfn-lint, so it is in the check-template.sh venv).
Exits 1 with one line per failed check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (!Ref, !Sub, !GetAtt, ...)."""


def _cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


class Checker:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed: list[str] = []

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed.append(what)
            print(f"  ok    {what}")
        else:
            msg = f"{what}: {detail}" if detail else what
            self.failures.append(msg)
            print(f"  FAIL  {msg}")
        return ok


def resources_of_type(template: dict, type_: str) -> dict[str, dict]:
    return {
        name: res
        for name, res in (template.get("Resources") or {}).items()
        if isinstance(res, dict) and res.get("Type") == type_
    }


def check_table(c: Checker, template: dict, spec: dict) -> None:
    print("LedgerTable (against infra/aws/resources.json \"table\"):")
    table = (template.get("Resources") or {}).get("LedgerTable")
    if not c.check(
        isinstance(table, dict) and table.get("Type") == "AWS::DynamoDB::Table",
        "LedgerTable is an AWS::DynamoDB::Table",
    ):
        return
    props = table.get("Properties") or {}
    for key in ("AttributeDefinitions", "KeySchema", "BillingMode", "StreamSpecification"):
        want = spec["table"].get(key)
        got = props.get(key)
        if isinstance(want, list) and isinstance(got, list):
            # Order of AttributeDefinitions is not significant; KeySchema order is.
            if key == "AttributeDefinitions":
                got_cmp = sorted(got, key=lambda a: a.get("AttributeName", ""))
                want_cmp = sorted(want, key=lambda a: a.get("AttributeName", ""))
            else:
                got_cmp, want_cmp = got, want
            c.check(got_cmp == want_cmp, f"LedgerTable {key} = resources.json", f"template {got!r}, resources.json {want!r}")
        else:
            c.check(got == want, f"LedgerTable {key} = resources.json", f"template {got!r}, resources.json {want!r}")
    c.check(
        table.get("DeletionPolicy") == "Retain" and table.get("UpdateReplacePolicy") == "Retain",
        "LedgerTable DeletionPolicy and UpdateReplacePolicy are Retain",
    )
    c.check(
        (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is True,
        "LedgerTable point-in-time recovery enabled",
    )


def check_bucket(c: Checker, template: dict, spec: dict) -> None:
    print("ArchiveBucket:")
    resources = template.get("Resources") or {}
    bucket = resources.get("ArchiveBucket")
    if not c.check(
        isinstance(bucket, dict) and bucket.get("Type") == "AWS::S3::Bucket",
        "ArchiveBucket is an AWS::S3::Bucket",
    ):
        return
    props = bucket.get("Properties") or {}
    want = spec.get("archive_bucket", {})
    lock_conf = props.get("ObjectLockConfiguration") or {}
    c.check(
        props.get("ObjectLockEnabled") is True and lock_conf.get("ObjectLockEnabled") == "Enabled",
        "Object Lock enabled",
        f"ObjectLockEnabled={props.get('ObjectLockEnabled')!r}, ObjectLockConfiguration={lock_conf!r}",
    )
    c.check(
        want.get("ObjectLockEnabled") is True,
        "resources.json archive_bucket.ObjectLockEnabled is true",
    )
    c.check(
        "Rule" not in lock_conf,
        "no default retention (each object gets its own COMPLIANCE retain-until)",
        f"ObjectLockConfiguration.Rule = {lock_conf.get('Rule')!r}",
    )
    versioning = (props.get("VersioningConfiguration") or {}).get("Status")
    c.check(
        versioning == "Enabled" == want.get("Versioning", "Enabled"),
        "versioning Enabled",
        f"template {versioning!r}, resources.json {want.get('Versioning')!r}",
    )
    pab = props.get("PublicAccessBlockConfiguration") or {}
    flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    c.check(
        all(pab.get(f) is True for f in flags),
        "public access fully blocked",
        f"{ {f: pab.get(f) for f in flags} }",
    )
    prefix = (want.get("Prefixes") or {}).get("extracts", "extracts/")
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []

    def rule_prefix(rule: dict) -> str | None:
        return rule.get("Prefix", ((rule.get("Filter") or {}).get("Prefix")))

    expiring = [
        r for r in rules
        if r.get("Status") == "Enabled" and rule_prefix(r) == prefix and r.get("ExpirationInDays") == 7
    ]
    c.check(bool(expiring), f"lifecycle expires {prefix} after 7 days", f"rules {rules!r}")
    c.check(
        all((r.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays") == 1 for r in expiring)
        and bool(expiring),
        f"lifecycle removes noncurrent versions under {prefix} after 1 day",
    )
    c.check(
        not any(rule_prefix(r) in (None, "", (want.get("Prefixes") or {}).get("batches", "batches/")) for r in rules),
        "no lifecycle rule touches the whole bucket or batches/",
    )
    c.check(
        bucket.get("DeletionPolicy") == "Retain" and bucket.get("UpdateReplacePolicy") == "Retain",
        "ArchiveBucket DeletionPolicy and UpdateReplacePolicy are Retain",
    )
    tls_denied = False
    for policy in resources_of_type(template, "AWS::S3::BucketPolicy").values():
        p = policy.get("Properties") or {}
        if p.get("Bucket") != {"Ref": "ArchiveBucket"}:
            continue
        for st in (p.get("PolicyDocument") or {}).get("Statement") or []:
            cond = ((st.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport")
            if st.get("Effect") == "Deny" and str(cond).lower() == "false":
                tls_denied = True
    c.check(tls_denied, "bucket policy denies non-TLS access (aws:SecureTransport false)")


def template_routes(c: Checker, template: dict, repo: Path) -> list[dict]:
    print("Functions and HttpApi routes:")
    apis = resources_of_type(template, "AWS::Serverless::HttpApi")
    c.check(len(apis) == 1, "exactly one AWS::Serverless::HttpApi", f"found {sorted(apis)}")
    api_name = next(iter(apis), None)
    if api_name:
        auth = (apis[api_name].get("Properties") or {}).get("Auth") or {}
        default = auth.get("DefaultAuthorizer")
        authorizer = (auth.get("Authorizers") or {}).get(default) or {}
        c.check(
            bool(default) and "JwtConfiguration" in authorizer
            and authorizer.get("IdentitySource") == "$request.header.Authorization",
            f"{api_name} has a JWT DefaultAuthorizer on the Authorization header",
        )

    packages = set()
    for manifest in sorted((repo / "functions").glob("*/Cargo.toml")):
        m = re.search(r'^\s*name\s*=\s*"([^"]+)"', manifest.read_text(), re.MULTILINE)
        if m:
            packages.add(m.group(1))

    routes = []
    for fname, fn in resources_of_type(template, "AWS::Serverless::Function").items():
        meta = fn.get("Metadata") or {}
        binary = (meta.get("BuildProperties") or {}).get("Binary")
        props = fn.get("Properties") or {}
        c.check(
            meta.get("BuildMethod") == "rust-cargolambda" and props.get("CodeUri") == ".",
            f"{fname} is built by rust-cargolambda from the workspace root",
        )
        c.check(
            binary in packages,
            f"{fname} Binary {binary!r} is a package under functions/",
            f"packages: {sorted(packages)}",
        )
        for ename, ev in (props.get("Events") or {}).items():
            if ev.get("Type") != "HttpApi":
                continue
            ep = ev.get("Properties") or {}
            method, path = ep.get("Method"), ep.get("Path")
            if not (isinstance(method, str) and isinstance(path, str)):
                c.check(False, f"{fname}.{ename} has an explicit Method and Path", f"{ep!r}")
                continue
            c.check(
                ep.get("ApiId") == {"Ref": api_name},
                f"{fname}.{ename} targets !Ref {api_name}",
                f"ApiId {ep.get('ApiId')!r}",
            )
            authorizer = ((ep.get("Auth") or {}).get("Authorizer"))
            routes.append({
                "function": binary,
                "method": method.upper(),
                "path": path,
                "auth": authorizer != "NONE",
                "event": f"{fname}.{ename}",
            })
    return routes


def known_iam_actions() -> dict[str, set[str]] | None:
    """Service prefix -> lower-case action names, from cfn-lint's IAM data (None if absent)."""
    try:
        from cfnlint.data import AdditionalSpecs
        from cfnlint.helpers import load_resource
    except ImportError:
        return None
    data = load_resource(AdditionalSpecs, "Policies.json")
    return {svc: {a.lower() for a in (v.get("Actions") or {})} for svc, v in data.items()}


def check_iam(c: Checker, template: dict) -> None:
    print("Function IAM policies:")
    known = known_iam_actions()
    if known is None:
        print("  skip  action names (cfn-lint is not importable here)")
    for fname, fn in resources_of_type(template, "AWS::Serverless::Function").items():
        props = fn.get("Properties") or {}
        c.check(not props.get("Role"), f"{fname} gets its own role from its Policies")
        policies = props.get("Policies") or []
        if isinstance(policies, (str, dict)):
            policies = [policies]
        inline = [p for p in policies if isinstance(p, dict) and "Statement" in p]
        c.check(
            len(inline) == len(policies) and bool(inline),
            f"{fname} Policies are explicit inline statements only",
            f"other entries: {[p for p in policies if p not in inline]!r}",
        )
        actions: list[str] = []
        for doc in inline:
            for st in doc.get("Statement") or []:
                if st.get("Effect") != "Allow":
                    continue
                acts = st.get("Action") or []
                acts = [acts] if isinstance(acts, str) else acts
                actions.extend(acts)
                res = st.get("Resource")
                res = res if isinstance(res, list) else [res]
                c.check(
                    "*" not in res and "NotAction" not in st and "NotResource" not in st,
                    f"{fname} {st.get('Sid', 'statement')}: no '*' resource, NotAction or NotResource",
                )
        wild = [a for a in actions if "*" in a]
        c.check(not wild, f"{fname}: no wildcard actions", f"{wild}")
        if known is not None:
            unknown = []
            for a in actions:
                svc, _, name = a.partition(":")
                if name.lower() not in known.get(svc.lower(), set()) and "*" not in a:
                    unknown.append(a)
            c.check(not unknown, f"{fname}: all {len(actions)} actions are IAM actions", f"unknown: {unknown}")
        print(f"        {', '.join(actions)}")


def check_routes(c: Checker, routes: list[dict], listed: list[dict]) -> None:
    print("Routes (against infra/aws/routes.json):")
    seen: dict[tuple[str, str], str] = {}
    dupes = []
    for r in routes:
        key = (r["method"], r["path"])
        if key in seen:
            dupes.append(f"{r['method']} {r['path']} ({seen[key]} and {r['event']})")
        seen[key] = r["event"]
    c.check(not dupes, f"all {len(routes)} template routes are unique", "; ".join(dupes))

    listed_keys = [(r["method"].upper(), r["path"]) for r in listed]
    c.check(len(listed_keys) == len(set(listed_keys)), f"all {len(listed)} routes.json routes are unique")

    def as_set(rs):
        return {(r["function"], r["method"].upper(), r["path"], bool(r["auth"])) for r in rs}

    t, l = as_set(routes), as_set(listed)

    def fmt(s):
        return ", ".join(f"{m} {p} [{f}{'' if a else ', no auth'}]" for f, m, p, a in sorted(s, key=lambda x: (x[2], x[1])))

    c.check(
        t == l,
        "template routes = routes.json (function, method, path, auth)",
        f"only in template: {fmt(t - l) or '-'}; only in routes.json: {fmt(l - t) or '-'}",
    )
    for r in sorted(routes, key=lambda r: (r["function"], r["path"], r["method"])):
        print(f"        {r['method']:<6} {r['path']:<62} {r['function']}{'' if r['auth'] else '  (no auth)'}")


def main() -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=here.parent.parent)
    ap.add_argument("--template", type=Path)
    args = ap.parse_args()
    repo = args.repo.resolve()
    template_path = args.template or repo / "template.yaml"

    template = yaml.load(template_path.read_text(), Loader=CfnLoader)
    spec = json.loads((repo / "infra/aws/resources.json").read_text())
    listed = json.loads((repo / "infra/aws/routes.json").read_text())
    if not isinstance(listed, list) or not all(
        isinstance(r, dict) and {"function", "method", "path", "auth"} <= r.keys() for r in listed
    ):
        print("FAIL infra/aws/routes.json must be a list of {function, method, path, auth}")
        return 1

    c = Checker()
    print(f"Checking {template_path.relative_to(repo) if template_path.is_relative_to(repo) else template_path}")
    check_table(c, template, spec)
    check_bucket(c, template, spec)
    routes = template_routes(c, template, repo)
    check_routes(c, routes, listed)
    check_iam(c, template)

    if c.failures:
        print(f"{len(c.failures)} of {len(c.failures) + len(c.passed)} checks FAILED:")
        for f in c.failures:
            print(f"  - {f}")
        return 1
    print(f"all {len(c.passed)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""policies/schema.json: validate policy files against it, and keep it in
sync with the loader (lib/policy_load.c).

Usage: schema_test.py YAML2JSON REPLYGUARD SCHEMA SHIPPED_DIR FIXTURES_DIR

  - every shipped policy file, and every file of every fixture policy set
    the loader accepts, is valid under the schema;
  - a set of broken policies is invalid under the schema AND refused by
    the loader (`replyguard lint` exits 2), each for the reason named;
  - the keys the schema allows at each level, the validator names and the
    taxonomy are exactly the loader's (read from its own error messages),
    so a key added to the loader without the schema fails here.

No JSON Schema package is needed (none is in the dependencies and PyPI is
not reachable): a validator for the draft 2020-12 keywords the schema uses
is below. It refuses any schema keyword it does not implement, so the
schema cannot silently grow a check that nobody runs. YAML is converted by
tests/yaml2json.c (libyaml, YAML 1.2 core typing as editors use).
Prints one line per check and a final "N passed, N failed".
"""
import json, os, re, subprocess, sys, tempfile

ANNOTATIONS = {"$schema", "$id", "title", "description", "default", "examples",
               "$comment", "$defs"}
ASSERTIONS = {"type", "properties", "additionalProperties", "required", "enum",
              "const", "pattern", "minimum", "maximum", "minLength", "maxLength",
              "minItems", "items", "propertyNames", "oneOf", "anyOf", "allOf",
              "not", "if", "then", "else", "$ref"}


class Validator:
    def __init__(self, schema):
        self.root = schema
        self.check_keywords(schema, "#")

    def check_keywords(self, s, where):
        if isinstance(s, bool):
            return
        if not isinstance(s, dict):
            raise ValueError(f"{where}: a schema must be an object")
        for k, v in s.items():
            if k not in ANNOTATIONS and k not in ASSERTIONS:
                raise ValueError(f"{where}: keyword {k!r} is not implemented by this validator")
            if k in ("properties", "$defs"):
                for name, sub in v.items():
                    self.check_keywords(sub, f"{where}/{k}/{name}")
            elif k in ("additionalProperties", "items", "propertyNames", "not", "if", "then", "else"):
                self.check_keywords(v, f"{where}/{k}")
            elif k in ("oneOf", "anyOf", "allOf"):
                for i, sub in enumerate(v):
                    self.check_keywords(sub, f"{where}/{k}/{i}")

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported: {ref}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    @staticmethod
    def is_type(x, t):
        if t == "null":
            return x is None
        if t == "boolean":
            return isinstance(x, bool)
        if t == "integer":
            return (isinstance(x, int) and not isinstance(x, bool)) or \
                   (isinstance(x, float) and x.is_integer())
        if t == "number":
            return isinstance(x, (int, float)) and not isinstance(x, bool)
        if t == "string":
            return isinstance(x, str)
        if t == "array":
            return isinstance(x, list)
        if t == "object":
            return isinstance(x, dict)
        raise ValueError(f"unknown type {t}")

    def errors(self, x, s, path="$"):
        """All errors of instance x under schema s, as 'path: message'."""
        if s is True:
            return []
        if s is False:
            return [f"{path}: not allowed"]
        out = []
        if "$ref" in s:
            out += self.errors(x, self.resolve(s["$ref"]), path)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(self.is_type(x, t) for t in types):
                return out + [f"{path}: expected {' or '.join(types)}, got {json.dumps(x)[:60]}"]
        if "enum" in s and not any(x == e and type(x) is type(e) for e in s["enum"]):
            out.append(f"{path}: {json.dumps(x)[:60]} is not one of {s['enum'][:6]}...")
        if "const" in s and not (x == s["const"] and type(x) is type(s["const"])):
            out.append(f"{path}: expected {json.dumps(s['const'])}")
        if isinstance(x, str):
            if "pattern" in s and not re.search(s["pattern"], x):
                out.append(f"{path}: {x[:60]!r} does not match {s['pattern'][:40]}...")
            if "minLength" in s and len(x) < s["minLength"]:
                out.append(f"{path}: shorter than {s['minLength']}")
            if "maxLength" in s and len(x) > s["maxLength"]:
                out.append(f"{path}: longer than {s['maxLength']}")
        if self.is_type(x, "number"):
            if "minimum" in s and x < s["minimum"]:
                out.append(f"{path}: {x} is below {s['minimum']}")
            if "maximum" in s and x > s["maximum"]:
                out.append(f"{path}: {x} is above {s['maximum']}")
        if isinstance(x, list):
            if "minItems" in s and len(x) < s["minItems"]:
                out.append(f"{path}: fewer than {s['minItems']} items")
            if "items" in s:
                for i, item in enumerate(x):
                    out += self.errors(item, s["items"], f"{path}[{i}]")
        if isinstance(x, dict):
            props = s.get("properties", {})
            for req in s.get("required", []):
                if req not in x:
                    out.append(f"{path}: missing required {req!r}")
            for k, v in x.items():
                if "propertyNames" in s:
                    out += [e.replace(f"{path}.{k}:", f"{path}: key {k!r}:")
                            for e in self.errors(k, s["propertyNames"], f"{path}.{k}")]
                if k in props:
                    out += self.errors(v, props[k], f"{path}.{k}")
                elif "additionalProperties" in s:
                    out += self.errors(v, s["additionalProperties"], f"{path}.{k}")
        for sub in s.get("allOf", []):
            out += self.errors(x, sub, path)
        if "anyOf" in s and not any(not self.errors(x, sub, path) for sub in s["anyOf"]):
            out.append(f"{path}: matches none of the allowed forms")
        if "oneOf" in s:
            n = sum(1 for sub in s["oneOf"] if not self.errors(x, sub, path))
            if n != 1:
                out.append(f"{path}: must match exactly one form, matches {n}")
        if "not" in s and not self.errors(x, s["not"], path):
            out.append(f"{path}: matches a forbidden form")
        if "if" in s:
            branch = "then" if not self.errors(x, s["if"], path) else "else"
            if branch in s:
                out += self.errors(x, s[branch], path)
        return out


passed = failed = 0


def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"FAIL - {what}{': ' + detail if detail else ''}")


def to_json(yaml2json, path):
    r = subprocess.run([yaml2json, path], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout), None


def lint(cli, path):
    r = subprocess.run([cli, "lint", path], capture_output=True, text=True)
    return r.returncode, r.stderr


def policy_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.endswith((".yaml", ".yml")) and not f.startswith("."))


BROKEN = [
    ("unknown top-level key", "detector:\n  - id: a\n", "not allowed"),
    ("detector without score",
     "detectors:\n  - id: a\n    category: toxicity.insult\n    words: [x]\n", "missing required 'score'"),
    ("score above 1",
     "detectors:\n  - id: a\n    category: toxicity.insult\n    words: [x]\n    score: 1.5\n", "above 1"),
    ("quoted score",
     "detectors:\n  - id: a\n    category: toxicity.insult\n    words: [x]\n    score: \"0.5\"\n", "expected number"),
    ("two matchers",
     "detectors:\n  - id: a\n    category: toxicity.insult\n    words: [x]\n    regex: 'y'\n    score: 0.5\n",
     "exactly one form"),
    ("unknown category",
     "detectors:\n  - id: a\n    category: pii.phonee\n    words: [x]\n    score: 0.5\n", "none of the allowed forms"),
    ("caseless on words",
     "detectors:\n  - id: a\n    category: toxicity.insult\n    words: [x]\n    caseless: true\n    score: 0.5\n",
     "forbidden form"),
    ("unknown mode",
     "detectors:\n  - id: a\n    category: toxicity.insult\n    words: [x]\n    score: 0.5\n    mode: quiet\n",
     "is not one of"),
    ("bad threshold",
     "routes:\n  default:\n    categories:\n      toxicity: { block: high }\n", "none of the allowed forms"),
    ("unknown rule field",
     "routes:\n  default:\n    categories:\n      toxicity: { blocks: 0.5 }\n", "not allowed"),
    ("bad fail-safe",
     "routes:\n  default:\n    on_timeout: ignore\n", "is not one of"),
    ("bad route name",
     "routes:\n  \"my route\":\n    description: x\n", "does not match"),
    ("unknown rule category",
     "routes:\n  default:\n    categories:\n      toxic: { block: 0.5 }\n", "none of the allowed forms"),
    ("zero budget",
     "routes:\n  default:\n    budget_us: 0\n", "below 1"),
]


def loader_keys(cli, tmp, yaml_text):
    """The 'expected one of: ...' list of the loader's unknown-key error."""
    d = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(d, "p.yaml"), "w") as f:
        f.write(yaml_text)
    _, err = lint(cli, d)
    m = re.search(r"expected one of: ([a-z_, ]+)\)", err)
    return set(m.group(1).split(", ")) if m else None


def main():
    yaml2json, cli, schema_path, shipped, fixtures = sys.argv[1:6]
    schema = json.load(open(schema_path))
    try:
        v = Validator(schema)
        report(True, "the validator implements every keyword the schema uses")
    except ValueError as e:
        report(False, "the validator implements every keyword the schema uses", str(e))
        print(f"{passed} passed, {failed} failed")
        return 1
    report(schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema",
           "schema declares draft 2020-12")

    for path in policy_files(shipped):
        doc, err = to_json(yaml2json, path)
        errs = err and [err] or v.errors(doc, schema)
        report(not errs, f"shipped {os.path.basename(path)} is valid", "; ".join(errs[:5]))

    for name in sorted(os.listdir(fixtures)):
        d = os.path.join(fixtures, name)
        if not os.path.isdir(d) or lint(cli, d)[0] == 2:
            continue
        errs = []
        for path in policy_files(d):
            doc, err = to_json(yaml2json, path)
            errs += [err] if err else [f"{os.path.basename(path)}: {e}" for e in v.errors(doc, schema)]
        report(not errs, f"fixture {name} (loads) is valid", "; ".join(errs[:5]))

    with tempfile.TemporaryDirectory() as tmp:
        for what, text, expect in BROKEN:
            d = tempfile.mkdtemp(dir=tmp)
            p = os.path.join(d, "policy.yaml")
            with open(p, "w") as f:
                f.write(text)
            doc, err = to_json(yaml2json, p)
            errs = v.errors(doc, schema) if doc is not None else [err]
            hit = any(expect in e for e in errs)
            report(hit, f"schema rejects: {what}", f"expected '{expect}', got {errs[:3]}")
            rc, _ = lint(cli, d)
            report(rc == 2, f"loader rejects too: {what}", f"lint exit {rc}")

        # The schema's key sets are the loader's.
        defs = schema["$defs"]
        levels = [
            ("top level", "zzz_unknown: 1\n", set(schema["properties"])),
            ("detector", "detectors:\n  - id: a\n    zzz_unknown: 1\n", set(defs["detector"]["properties"])),
            ("route", "routes:\n  default:\n    zzz_unknown: 1\n", set(defs["route"]["properties"])),
            ("rule", "routes:\n  default:\n    categories:\n      toxicity: { zzz_unknown: 1 }\n",
             set(defs["rule"]["properties"])),
            ("context block",
             "detectors:\n  - id: a\n    category: toxicity.insult\n    words: [x]\n    score: 0.5\n"
             "    context: { words: [y], score: 0.9, zzz_unknown: 1 }\n",
             set(defs["context_block"]["properties"])),
            ("category declaration", "categories:\n  pii.national_id.zz: { zzz_unknown: 1 }\n",
             set(schema["properties"]["categories"]["additionalProperties"]["properties"])),
        ]
        for what, text, keys in levels:
            got = loader_keys(cli, tmp, text)
            report(got == keys, f"schema keys of the {what} match the loader's",
                   f"loader {sorted(got) if got else got}, schema {sorted(keys)}")

        d = tempfile.mkdtemp(dir=tmp)
        with open(os.path.join(d, "p.yaml"), "w") as f:
            f.write("detectors:\n  - id: a\n    category: pii.iban\n    regex: 'x'\n"
                    "    validate: zzz_unknown\n    score: 0.5\n")
        _, err = lint(cli, d)
        m = re.search(r"'validate' must be one of: ([a-z0-9_, ]+);", err)
        loader_validators = set(m.group(1).split(", ")) if m else None
        schema_validators = set(defs["detector"]["properties"]["validate"]["enum"])
        report(loader_validators == schema_validators,
               "schema's validators match the loader's",
               f"only in loader: {sorted((loader_validators or set()) - schema_validators)}, "
               f"only in schema: {sorted(schema_validators - (loader_validators or set()))}")

    # Every taxonomy category is accepted, an unknown one is not.
    cat = defs["category"]
    tax = cat["anyOf"][0]["enum"]
    report(all(not v.errors(t, cat) for t in tax) and v.errors("toxicity", cat) != []
           and not v.errors("pii.national_id.es_dni", cat),
           "category: taxonomy and sub-categories accepted, groups refused")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


sys.exit(main())

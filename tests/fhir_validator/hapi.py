"""HL7's FHIR validator for the suite: HAPI FHIR's FhirInstanceValidator, run offline.

The validator's jars come from Maven Central (the POM below, copied by Maven into the cache folder once,
as HoSo fetches Neo4j); the International Patient Summary's profiles come as the FHIR package
`hl7.fhir.uv.ips` from the npm registry. `Validate.java` beside this file runs the validator on a folder of
JSON files (Java's single-file launcher compiles it on the fly) and prints each file's issues.

    validator = HapiValidator(cache_dir)
    issues = validator.validate({"patient-read": patient, "export": bundle})   # name -> [Issue]
    errors = [i for i in issues["export"] if i.is_error]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HAPI_VERSION = "8.6.1"
PACKAGES = ("hl7.fhir.uv.ips@2.0.0",)
ARTIFACTS = ("hapi-fhir-validation", "hapi-fhir-structures-r4", "hapi-fhir-validation-resources-r4",
             "hapi-fhir-caching-caffeine")
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hoso</groupId><artifactId>fhir-validator-fetch</artifactId><version>1</version>
  <dependencies>{dependencies}</dependencies>
</project>
"""
SOURCE = Path(__file__).with_name("Validate.java")


@dataclass(frozen=True)
class Issue:
    severity: str
    location: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity in ("error", "fatal")

    def __str__(self) -> str:
        return f"{self.severity} at {self.location}: {self.message}"


class HapiValidator:
    """Fetches the validator once into `cache_dir`, then validates resources in one Java run per call."""

    def __init__(self, cache_dir: Path) -> None:
        self.home = cache_dir.expanduser().resolve() / f"hapi-fhir-{HAPI_VERSION}"

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def package_dir(self) -> Path:
        return self.home / "packages"

    def ensure(self) -> None:
        """The jars and the FHIR packages, fetched the first time (raises RuntimeError naming what failed)."""
        for tool in ("java", "mvn", "npm"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"the FHIR validator needs {tool} on PATH")
        self.home.mkdir(parents=True, exist_ok=True)
        if not (self.lib_dir / ".complete").exists():
            dependencies = "".join(
                f"<dependency><groupId>ca.uhn.hapi.fhir</groupId><artifactId>{a}</artifactId>"
                f"<version>{HAPI_VERSION}</version></dependency>" for a in ARTIFACTS)
            with tempfile.TemporaryDirectory(dir=self.home) as tmp:
                pom = Path(tmp) / "pom.xml"
                pom.write_text(_POM.format(dependencies=dependencies))
                out = Path(tmp) / "lib"
                proc = subprocess.run(["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                                       f"-DoutputDirectory={out}"], capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    raise RuntimeError(f"could not fetch HAPI FHIR {HAPI_VERSION} with Maven: "
                                       f"{(proc.stdout + proc.stderr)[-500:]}")
                (out / ".complete").write_text(HAPI_VERSION)
                shutil.rmtree(self.lib_dir, ignore_errors=True)
                out.rename(self.lib_dir)
        if not (self.package_dir / ".complete").exists():
            tmp = Path(tempfile.mkdtemp(dir=self.home))
            try:
                proc = subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(tmp), *PACKAGES],
                                      capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    raise RuntimeError(f"could not fetch the FHIR packages {PACKAGES} with npm: {proc.stderr[-500:]}")
                (tmp / ".complete").write_text(" ".join(PACKAGES))
                shutil.rmtree(self.package_dir, ignore_errors=True)
                tmp.rename(self.package_dir)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    def validate(self, resources: dict[str, dict[str, Any]]) -> dict[str, list[Issue]]:
        """Each resource's issues, by the name it was given (names become file names: letters, digits, -)."""
        self.ensure()
        with tempfile.TemporaryDirectory() as tmp:
            for name, resource in resources.items():
                (Path(tmp) / f"{name}.json").write_text(json.dumps(resource, ensure_ascii=False), encoding="utf-8")
            packages = sorted(str(p) for p in self.package_dir.glob("*.tgz"))
            proc = subprocess.run(["java", "-cp", f"{self.lib_dir}/*", str(SOURCE), tmp, *packages],
                                  capture_output=True, text=True, check=False, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"the FHIR validator failed: {proc.stderr[-2000:]}")
        found: dict[str, list[Issue]] = {}
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                found[row["file"].removesuffix(".json")] = [Issue(**i) for i in row["issues"]]
        missing = set(resources) - set(found)
        if missing:
            raise RuntimeError(f"the FHIR validator said nothing about {sorted(missing)}")
        return found

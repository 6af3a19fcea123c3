"""deploy/prefect.yaml: every deployment's flow imports and its parameters validate against the flow's
schema; applying them to a real Prefect API gives the schedules, forms and pull steps a worker needs."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import pytest
import yaml

from shopgraph.services.deployments import (
    DEPLOY_FILE,
    DeploymentError,
    DeploymentSpec,
    apply_deployments,
    load_deployment_specs,
    load_flow,
)
from shopgraph.settings import REPO_ROOT, load_settings
from tasks.limits import GPU, NEO4J_WRITER

pytestmark = pytest.mark.integration
SPECS = load_deployment_specs(load_settings())


def test_the_file_names_the_expected_deployments() -> None:
    assert [spec.name for spec in SPECS] == ["nightly", "backfill", "retrain", "promote"]
    nightly = SPECS[0]
    assert nightly.schedules == [{"cron": "0 2 * * *", "timezone": "UTC", "active": True}]
    assert all(spec.work_pool == load_settings().prefect.work_pool for spec in SPECS)
    assert all(
        spec.pull_steps
        == [{"prefect.deployments.steps.set_working_directory": {"directory": str(REPO_ROOT)}}]
        for spec in SPECS
    )


def test_timezone_and_pool_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPGRAPH_PREFECT__TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("SHOPGRAPH_PREFECT__WORK_POOL", "other-pool")
    specs = load_deployment_specs(load_settings())
    assert specs[0].schedules[0]["timezone"] == "Europe/Berlin"
    assert {spec.work_pool for spec in specs} == {"other-pool"}


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_deployment_parameters_validate_against_the_flow_schema(spec: DeploymentSpec) -> None:
    from prefect.utilities.schema_tools import validate

    if not spec.present:
        pytest.skip(
            f"{spec.entrypoint}: {spec.path.relative_to(REPO_ROOT)} does not exist in this checkout yet"
        )
    flow = load_flow(spec)
    flow.validate_parameters(spec.parameters)  # pydantic: what the flow run will receive
    schema = flow.parameters.model_dump_for_openapi()
    validate(spec.parameters, schema, raise_on_error=True)  # JSON schema: what the server enforces
    assert flow.fn.__doc__, f"{spec.name}: the flow needs a docstring for the UI"


def test_a_bad_backfill_form_is_rejected() -> None:
    from prefect.exceptions import ParameterTypeError

    backfill = load_flow(next(spec for spec in SPECS if spec.name == "backfill"))
    with pytest.raises(ParameterTypeError):
        backfill.validate_parameters({"params": {"start": "2026-01-05", "end": "2026-01-01"}})
    with pytest.raises(ParameterTypeError):
        backfill.validate_parameters({"params": {"start": "yesterday", "end": "2026-01-01"}})
    good = backfill.validate_parameters({"params": {"start": "2026-01-01", "end": "2026-01-02"}})
    assert good["params"].days() == [date(2026, 1, 1), date(2026, 1, 2)]


def test_apply_to_a_prefect_api(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("SHOPGRAPH_PREFECT__API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.setenv("SHOPGRAPH_PREFECT__TIMEZONE", "Europe/Berlin")
    settings = load_settings()
    # The pool may be there from an earlier test of this session.
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=settings.prefect.work_pool, type="process"))
    lines: list[str] = []

    applied = apply_deployments(settings, lines.append)
    again = apply_deployments(settings, lines.append)  # re-applying updates in place

    present = [spec for spec in SPECS if spec.present]
    assert len(applied) == len(present) and again == applied
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("nightly/nightly")
        backfill = client.read_deployment_by_name("backfill/backfill")
        count = len(client.read_deployments())
        limits = {
            tag: client.read_concurrency_limit_by_tag(tag).concurrency_limit for tag in (NEO4J_WRITER, GPU)
        }
        for tag in limits:  # later tests of this session share the server; they run unlimited
            client.delete_concurrency_limit_by_tag(tag)
    assert limits == {NEO4J_WRITER: 1, GPU: 1}
    assert count == len(present)
    schedule = nightly.schedules[0].schedule
    assert len(nightly.schedules) == 1
    assert getattr(schedule, "cron", None) == "0 2 * * *"
    assert getattr(schedule, "timezone", None) == "Europe/Berlin"
    assert nightly.work_pool_name == settings.prefect.work_pool
    assert nightly.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO_ROOT)}}
    ]
    form = backfill.parameter_openapi_schema["definitions"]["BackfillParams"]["properties"]
    assert form["start"]["format"] == "date" and form["retrain"]["type"] == "boolean"
    assert backfill.enforce_parameter_schema and backfill.parameters["params"]["end"] == "2026-01-07"
    assert str(DEPLOY_FILE.relative_to(REPO_ROOT)) == "deploy/prefect.yaml"

    broken = yaml.safe_load(DEPLOY_FILE.read_text())
    broken["deployments"] = [
        {**entry, "name": f"{entry['name']}-check"}
        for entry in broken["deployments"]
        if entry["name"] in ("backfill", "promote")
    ]
    broken["deployments"][0]["parameters"] = {"params": {"start": "2026-01-05", "end": "2026-01-01"}}
    bad_file = tmp_path / "prefect.yaml"
    bad_file.write_text(yaml.safe_dump(broken))
    with pytest.raises(DeploymentError, match=r"backfill-check \(flows/backfill.py:backfill\)"):
        apply_deployments(settings, lines.append, bad_file)
    with get_client(sync_client=True) as client:
        assert client.read_deployment_by_name("promote/promote-check").name == "promote-check"
        assert "backfill-check" not in {d.name for d in client.read_deployments()}

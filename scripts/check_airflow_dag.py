"""Loads the Airflow DAG example and reports what the test suite checks, as JSON on stdout's last line.

With Airflow importable (a throwaway venv), the file is loaded by Airflow's own DagBag and its import errors
are reported. Without it, `airflow` and `pendulum` are replaced by minimal stand-ins so that the module's own
code (command lines, exit-code mapping) still runs. Usage: python3 scripts/check_airflow_dag.py DAG_FILE
"""

import importlib.util
import json
import sys
import types


def stub_airflow():
    class AirflowException(Exception):
        pass

    class AirflowFailException(AirflowException):
        pass

    def decorator(wrap):
        # Usable bare (@task) and with arguments (@task(task_id=...)).
        def deco(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:
                return wrap(args[0])
            return wrap
        return deco

    airflow = types.ModuleType("airflow")
    decorators = types.ModuleType("airflow.decorators")
    decorators.dag = decorators.task_group = decorator(lambda f: f)
    # Tasks are only declared when a DAG is parsed, never run.
    decorators.task = decorator(lambda f: (lambda *a, **k: None))
    exceptions = types.ModuleType("airflow.exceptions")
    exceptions.AirflowException = AirflowException
    exceptions.AirflowFailException = AirflowFailException
    pendulum = types.ModuleType("pendulum")
    pendulum.datetime = lambda *a, **k: None
    sys.modules.update({"airflow": airflow, "airflow.decorators": decorators,
                        "airflow.exceptions": exceptions, "pendulum": pendulum})


def main(path):
    report = {}
    try:
        from airflow.models.dagbag import DagBag
        bag = DagBag(dag_folder=path, include_examples=False)
        report["airflow"] = True
        report["import_errors"] = {k: str(v) for k, v in bag.import_errors.items()}
        report["dags"] = sorted(bag.dag_ids)
        report["tasks"] = {d: sorted(t.task_id for t in dag.tasks) for d, dag in bag.dags.items()}
    except ImportError:
        report["airflow"] = False
        stub_airflow()

    spec = importlib.util.spec_from_file_location("wrapup_audit_dag", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from airflow.exceptions import AirflowFailException, AirflowException

    report["nightly"] = mod.NIGHTLY_ARGS
    report["backfill"] = [mod.backfill_args(s) for s in mod.BACKFILL_SHARDS]
    # Each exit code through the DAG's own mapping, with `sh -c "exit N"` standing in for the binary.
    mod.BINARY = "sh"
    states = {}
    for code in [0, 1, 2, 3, 4, 5, 6, 7, 130, 143]:
        try:
            mod.run_wrapup_audit(["-c", f"exit {code}"])
            states[code] = "success"
        except AirflowFailException:
            states[code] = "failed"
        except AirflowException:
            states[code] = "up_for_retry"
    report["states"] = states
    # The last line: Airflow may log to stdout before it.
    print()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])

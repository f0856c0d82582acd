from __future__ import annotations
import json, sys, threading, logging
from pathlib import Path
from airflow_provider_wiziq.emulator import WizIQEmulator
from tests.dagtest import run_dag, task_instances
from tests.test_example_dags import complete_first_class_once_enrolled, EXAMPLES

SECRET = "Zq9+Wiz/IQ=s3cr3t&key"

def test_exp(capfd, caplog, monkeypatch):
    from airflow.sdk.log import configure_logging
    configure_logging()
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=EXAMPLES)
    with WizIQEmulator(secret_key=SECRET) as emu:
        monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", json.dumps({**emu.connection, "password": SECRET}))
        dag = bag.dags["wiziq_enrollment_pipeline"]
        dag.get_task("wait_for_first_class").poke_interval = 0.1
        stop = threading.Event()
        mover = threading.Thread(target=complete_first_class_once_enrolled, args=(emu, stop))
        mover.start()
        try:
            dr = run_dag(dag)
        finally:
            stop.set(); mover.join()
        print("STATE", dr.state, file=sys.__stderr__)
    out, err = capfd.readouterr()
    Path("/tmp/exp_out.txt").write_text(out)
    Path("/tmp/exp_err.txt").write_text(err)
    Path("/tmp/exp_caplog.txt").write_text(caplog.text)
    for ti in dr.get_task_instances():
        print(ti.task_id, ti.state, file=sys.__stderr__)

"""Time a batch prediction of a CSV file through the batch route and row by row.

Starts a local engine on loopback, builds a breast cancer classifier, then
predicts a file of REPEATS copies of its 569 rows twice. The first run uses
the engine's `/predictions` route. The second sends one `/infer` call per row,
as the app does for a server without that route. Prints rows per second and
the load average, because other processes on the machine change the numbers.

Run from the repository root: .venv/bin/python -m tests.benchmarks.batch_predictions
"""

import asyncio
import os
import tempfile
import time
from pathlib import Path

from plexe_tui.api import PlexeClient
from plexe_tui.ui.batch import BatchPredictor
from plexe_tui.ui.inference import features_from_schema
from plexe_tui.ui.server_features import ServerFeatures
from tests.engine.engine_harness import EngineProcess, data_file

REPEATS = 4


async def predict(base_url: str, version: str, source: Path, batch: bool) -> None:
    client = PlexeClient(base_url)
    try:
        model = await client.get_model("cancer", version)
        features = features_from_schema(model["input_schema"])
        server_features = ServerFeatures(batch_predictions=None if batch else False)
        predictor = BatchPredictor(client, "cancer", version, features, server_features)
        started = time.monotonic()
        progress = await predictor.run(source)
        seconds = time.monotonic() - started
    finally:
        await client.aclose()
    how = "/predictions in chunks" if batch else "one /infer per row"
    print(
        f"{how}: {progress.done} rows in {seconds:.2f} s, "
        f"{progress.done / seconds:,.0f} rows/s, "
        f"1-minute load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )


def main() -> None:
    """Build a model, then print the speed of both ways of predicting a file."""
    with tempfile.TemporaryDirectory(prefix="plexe-batch-") as folder:
        work = Path(folder)
        lines = data_file("breast_cancer.csv").read_text().splitlines()
        source = work / "rows.csv"
        source.write_text("\n".join([lines[0]] + lines[1:] * REPEATS) + "\n")

        engine = EngineProcess(work / "data", work / "engine.log")
        engine.start()
        try:
            upload = engine.upload(data_file("breast_cancer.csv"))
            version = engine.start_build(
                "cancer", goal="predict the diagnosis", upload_id=upload
            )
            status = engine.wait_for("cancer", version)
            assert status["status"] == "completed", status
            for batch in (True, False):
                asyncio.run(predict(engine.base_url, version, source, batch))
        finally:
            engine.close()


if __name__ == "__main__":
    main()

"""Run plexe-tui under cProfile from its first line until its first frame.

`startup.py --profile FILE` runs this on a pseudo-terminal. The profiler
starts before plexe_tui is imported and stops in the app's callback that runs
after the first frame (`PlexeApp._after_first_frame`), then writes its
statistics to FILE. The app goes on running until it is killed.
"""

import cProfile
import sys


def main() -> None:
    """Profile the app's start; argv[1] is the output file."""
    output = sys.argv[1]
    profiler = cProfile.Profile()
    profiler.enable()

    from plexe_tui.ui.app import PlexeApp

    after_first_frame = PlexeApp._after_first_frame

    def stop_and_continue(app: PlexeApp) -> None:
        profiler.disable()
        profiler.dump_stats(output)
        after_first_frame(app)

    PlexeApp._after_first_frame = stop_and_continue  # type: ignore[method-assign]

    from plexe_tui.cli import main as cli_main

    sys.exit(cli_main([]))


if __name__ == "__main__":
    main()

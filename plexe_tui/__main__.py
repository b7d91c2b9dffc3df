from plexe_tui.cli import main

raise SystemExit(main())

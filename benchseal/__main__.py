from benchseal.cli import main

raise SystemExit(main())

"""The bundle's entry point: the same `main` as the `deq-studio` command of a pip install."""
import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # child processes of a frozen program start here, not in main()
    from app.main import main

    sys.exit(main())

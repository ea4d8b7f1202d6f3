from .cli import run

# guarded: Dask starts worker processes with 'spawn', which re-imports __main__
if __name__ == "__main__":
    run()

"""``python -m geo_csp.cli``: the same as the ``geo-csp`` console script."""

from geo_csp.cli import main

if __name__ == "__main__":
    main()

"""
Development tools, kept out of the production app: the page benchmark (`bench`), the import
benchmark (`bench_import`) and the synthetic data generator (`generate_data`).

An app of its own, installed only by `bench.settings` (`make bench` uses them): under the
production settings these commands do not exist.
"""

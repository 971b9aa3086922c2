from .import_data import Command as ImportDataCommand


class Command(ImportDataCommand):
    help = "Import a CSV, XLSX or JSON file of formal acts (see docs/import-format.md)."
    kind = "acts"

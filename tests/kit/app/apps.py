from django.apps import AppConfig


class KitTestsConfig(AppConfig):
    name = "tests.kit.app"
    label = "kit_tests"

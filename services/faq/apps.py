from django.apps import AppConfig


class FaqConfig(AppConfig):
    name = "services.faq"
    label = "faq"
    verbose_name = "FAQ"

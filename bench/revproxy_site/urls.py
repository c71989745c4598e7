"""``/faq/<path>`` proxied to ``REVPROXY_UPSTREAM/<path>``, as the gateway mounts the FAQ.

revproxy's module-level ``HTTP_POOLS = urllib3.PoolManager()`` keeps urllib3's default of one
idle connection per host: with several threads every other request would open a new connection
and drop it ("Connection pool is full"). The view here uses a pool sized to the thread count.
"""

import urllib3
from django.conf import settings
from django.urls import re_path
from revproxy.views import ProxyView

POOL = urllib3.PoolManager(maxsize=settings.REVPROXY_POOL_SIZE)


class PooledProxyView(ProxyView):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = POOL


urlpatterns = [
    re_path(r"^faq/(?P<path>.*)$", PooledProxyView.as_view(upstream=settings.REVPROXY_UPSTREAM)),
]

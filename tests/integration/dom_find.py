"""Prints the values an attribute takes on the elements of one tag in an
HTML document (a page as headless Chromium rendered it), one a line.
Usage: dom_find.py FILE TAG ATTRIBUTE"""
import sys
from html.parser import HTMLParser


class Find(HTMLParser):
    def __init__(self, tag, attr):
        super().__init__()
        self.tag, self.attr = tag, attr

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if tag == self.tag and k == self.attr:
                print(v)


with open(sys.argv[1], encoding="utf-8") as f:
    Find(sys.argv[2], sys.argv[3]).feed(f.read())

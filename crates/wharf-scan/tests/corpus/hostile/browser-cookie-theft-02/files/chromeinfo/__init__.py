from .passwords import dump

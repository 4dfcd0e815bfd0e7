def __pyarmor__(*args):
    return None

from django.contrib import admin

from catalog.models import Course, Lesson, Module, Question, Quiz


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    show_change_link = True


class QuizInline(admin.TabularInline):
    model = Quiz
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title", "slug"]  # also lets other admins use autocomplete_fields
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["instructors"]
    inlines = [ModuleInline, QuizInline]


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 0
    fields = ["position", "title", "optional"]
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position"]
    list_filter = ["course"]
    list_select_related = ["course"]
    search_fields = ["title", "course__title"]
    autocomplete_fields = ["course"]
    inlines = [LessonInline]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "course", "position", "optional"]
    list_filter = ["optional", "module__course"]
    list_select_related = ["module__course"]
    search_fields = ["title", "module__title", "module__course__title"]
    autocomplete_fields = ["module"]

    @admin.display(ordering="module__course__title")
    def course(self, lesson: Lesson) -> Course:
        return lesson.module.course


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "max_attempts", "pass_mark", "time_limit"]
    list_filter = ["course"]
    list_select_related = ["course"]
    search_fields = ["title", "course__title"]
    autocomplete_fields = ["course"]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "quiz", "kind", "points", "position"]
    list_filter = ["kind", "quiz__course"]
    list_select_related = ["quiz"]
    search_fields = ["prompt", "quiz__title"]
    autocomplete_fields = ["quiz"]
